package smsgate

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/sms"
)

// Message kinds with an SMS template. phone_code is the verification
// code (its template takes one variable, code); the order kinds are
// messaging's; marketing is for campaigns (its template must end with
// 退订回T, and members who unsubscribed never get it).
const (
	KindPhoneCode = "phone_code"
	KindMarketing = "marketing"
)

// TemplateKinds are the kinds a template can be set for.
var TemplateKinds = []string{KindPhoneCode, "order_paid", "order_shipped", "order_refunded", "membership_expiring", KindMarketing}

// Settings are a shop's SMS settings as staff see them: the secret masked.
type Settings struct {
	Configured   bool              `json:"configured"`
	Provider     string            `json:"provider" doc:"aliyun or tencent; empty until configured"`
	AccessKeyID  string            `json:"access_key_id" doc:"Aliyun AccessKey ID or Tencent SecretId"`
	AccessSecret string            `json:"access_secret" doc:"masked: the last 4 characters, or empty when not set"`
	SdkAppID     string            `json:"sdk_app_id" doc:"Tencent's SmsSdkAppId"`
	Region       string            `json:"region" doc:"Tencent's region (ap-guangzhou when empty)"`
	SignName     string            `json:"sign_name" doc:"the approved sign name (签名), without 【】"`
	Templates    map[string]string `json:"templates" doc:"template code (Aliyun) or id (Tencent) per message kind"`
	UpdatedAt    *time.Time        `json:"updated_at"`
}

// SettingsInput sets a shop's SMS settings.
type SettingsInput struct {
	Provider     string            `json:"provider" enum:"aliyun,tencent"`
	AccessKeyID  string            `json:"access_key_id"`
	AccessSecret string            `json:"access_secret" doc:"empty keeps the stored secret"`
	SdkAppID     string            `json:"sdk_app_id" doc:"required for Tencent: digits"`
	Region       string            `json:"region"`
	SignName     string            `json:"sign_name"`
	Templates    map[string]string `json:"templates" doc:"kind → template; kinds: phone_code, order_paid, order_shipped, order_refunded (variables order_no, amount), membership_expiring (title, ends_at, days_left), marketing"`
}

var (
	keyIDPattern    = regexp.MustCompile(`^[A-Za-z0-9_\-]{4,128}$`)
	templatePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	appIDPattern    = regexp.MustCompile(`^[0-9]{5,20}$`)
	regionPattern   = regexp.MustCompile(`^[a-z0-9\-]{0,32}$`)
)

func validateSettings(in SettingsInput, secretStored bool) error {
	var v errs.Validator
	v.Check(in.Provider == sms.Aliyun || in.Provider == sms.Tencent, "provider", "must be aliyun or tencent")
	v.Check(keyIDPattern.MatchString(in.AccessKeyID), "access_key_id", "must be 4 to 128 letters, digits, - or _")
	v.Check(in.AccessSecret != "" || secretStored, "access_secret", "is required")
	v.Check(len(in.AccessSecret) <= 256 && !strings.ContainsAny(in.AccessSecret, " \t\r\n"), "access_secret", "must be at most 256 characters without spaces")
	v.Check(in.Provider != sms.Tencent || appIDPattern.MatchString(in.SdkAppID), "sdk_app_id", "Tencent needs the SmsSdkAppId: digits")
	v.Check(in.Provider != sms.Aliyun || in.SdkAppID == "", "sdk_app_id", "is for Tencent only")
	v.Check(regionPattern.MatchString(in.Region), "region", "must be a region id such as ap-guangzhou")
	n := utf8.RuneCountInString(in.SignName)
	v.Check(n >= 2 && n <= 12 && !strings.ContainsAny(in.SignName, "【】[] \t\r\n"), "sign_name", "must be 2 to 12 characters, without 【】 or spaces")
	v.Check(len(in.Templates) <= len(TemplateKinds), "templates", "has too many kinds")
	for k, t := range in.Templates {
		if !slices.Contains(TemplateKinds, k) {
			v.Check(false, "templates", "unknown kind "+clip(k)+"; kinds: "+strings.Join(TemplateKinds, ", "))
			continue
		}
		v.Check(templatePattern.MatchString(t), "templates", "the template of "+k+" must be 1 to 64 letters, digits or _")
	}
	return v.Err()
}

func clip(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.ToValidUTF8(s, "")
}

// PutSettings validates and stores shopID's settings; an empty secret
// keeps the stored one.
func (s *Service) PutSettings(ctx context.Context, shopID int64, in SettingsInput) (Settings, error) {
	in.Provider, in.AccessKeyID, in.SignName = strings.TrimSpace(in.Provider), strings.TrimSpace(in.AccessKeyID), strings.TrimSpace(in.SignName)
	in.SdkAppID, in.Region = strings.TrimSpace(in.SdkAppID), strings.TrimSpace(in.Region)
	cur, err := s.stored(ctx, s.db, shopID)
	if err != nil {
		return Settings{}, err
	}
	if err := validateSettings(in, cur.sealed != ""); err != nil {
		return Settings{}, err
	}
	sealed := cur.sealed
	if in.AccessSecret != "" {
		if sealed, err = s.box.Seal(in.AccessSecret); err != nil {
			return Settings{}, errs.Wrap("seal sms secret", err)
		}
	}
	tpl, _ := json.Marshal(nonNil(in.Templates))
	_, err = s.db.Exec(ctx, `INSERT INTO sms_settings (shop_id, provider, access_key_id, access_secret, sdk_app_id, region, sign_name, templates, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET provider = excluded.provider, access_key_id = excluded.access_key_id,
			access_secret = excluded.access_secret, sdk_app_id = excluded.sdk_app_id, region = excluded.region,
			sign_name = excluded.sign_name, templates = excluded.templates, updated_at = excluded.updated_at`,
		shopID, in.Provider, in.AccessKeyID, sealed, in.SdkAppID, in.Region, in.SignName, string(tpl), s.nowMs())
	if err != nil {
		return Settings{}, errs.Wrap("save sms settings", err)
	}
	return s.Settings(ctx, shopID)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

// stored is a shop's settings row (zero when none).
type stored struct {
	Settings
	sealed string
}

func (s *Service) stored(ctx context.Context, q db.Querier, shopID int64) (stored, error) {
	var st stored
	var tpl string
	var updated int64
	err := q.QueryRow(ctx, `SELECT provider, access_key_id, access_secret, sdk_app_id, region, sign_name, templates, updated_at
		FROM sms_settings WHERE shop_id = ?`, shopID).Scan(&st.Provider, &st.AccessKeyID, &st.sealed, &st.SdkAppID, &st.Region,
		&st.SignName, &tpl, &updated)
	st.Templates = map[string]string{}
	if db.IsNoRows(err) {
		return st, nil
	}
	if err != nil {
		return st, errs.Wrap("load sms settings", err)
	}
	if err := json.Unmarshal([]byte(tpl), &st.Templates); err != nil {
		return st, errs.Wrap("decode sms templates", err)
	}
	at := time.UnixMilli(updated).UTC()
	st.Configured, st.UpdatedAt = true, &at
	return st, nil
}

// Settings returns shopID's settings, the secret masked.
func (s *Service) Settings(ctx context.Context, shopID int64) (Settings, error) {
	st, err := s.stored(ctx, s.db, shopID)
	if err != nil {
		return Settings{}, err
	}
	if st.sealed != "" {
		plain, err := s.box.Open(st.sealed)
		if err != nil {
			return Settings{}, errs.Wrap("open sms secret", err)
		}
		st.AccessSecret = mask(plain)
	}
	return st.Settings, nil
}

// mask shows the last 4 characters of a secret.
func mask(secret string) string {
	if len(secret) <= 4 {
		return "****"
	}
	return "****" + secret[len(secret)-4:]
}

var errNotConfigured = errs.E(errs.Conflict, "sms_not_configured", "the shop has no SMS settings or no template for this kind of message")

// route is what sending one kind of message for a shop takes.
type route struct {
	cred     sms.Credentials
	signName string
	template string
}

// routeFor returns the credentials and template of kind for shopID, or
// errNotConfigured.
func (s *Service) routeFor(ctx context.Context, shopID int64, kind string) (route, error) {
	return s.routeIn(ctx, s.db, shopID, kind)
}

func (s *Service) routeIn(ctx context.Context, q db.Querier, shopID int64, kind string) (route, error) {
	st, err := s.stored(ctx, q, shopID)
	if err != nil {
		return route{}, err
	}
	tpl := st.Templates[kind]
	if !st.Configured || tpl == "" {
		return route{}, errNotConfigured
	}
	secret, err := s.box.Open(st.sealed)
	if err != nil {
		return route{}, errs.Wrap("open sms secret", err)
	}
	cred := sms.Credentials{Provider: st.Provider, AccessKeyID: st.AccessKeyID, AccessSecret: secret, SdkAppID: st.SdkAppID, Region: st.Region}
	return route{cred: cred, signName: st.SignName, template: tpl}, nil
}

// Configured reports whether shopID can send kind, read through q (the
// transaction of a message being queued, or the database).
func (s *Service) Configured(ctx context.Context, q db.Querier, shopID int64, kind string) (bool, error) {
	_, err := s.routeIn(ctx, q, shopID, kind)
	if err == errNotConfigured {
		return false, nil
	}
	return err == nil, err
}

// Send sends one message of kind to phone for shopID; the error is the
// provider's (classed by sms.ClassOf) or errNotConfigured.
func (s *Service) Send(ctx context.Context, shopID int64, kind, phone string, params []sms.Param) (sms.Result, error) {
	rt, err := s.routeFor(ctx, shopID, kind)
	if err != nil {
		return sms.Result{}, err
	}
	return s.client.Send(ctx, rt.cred, sms.Message{Phone: phone, SignName: rt.signName, Template: rt.template, Params: params})
}
