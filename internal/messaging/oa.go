package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// Official Account (公众号) template messages (issue 15): a member who
// follows the shop's linked OA — matched by unionid, as the OA has its own
// openids — gets category template messages (no first/remark) that open
// the mini program. The channel sits after the subscription message and
// before SMS. A user who cannot be reached this way (43004 not following,
// 40003 unknown openid) is marked not following and the message goes back
// to pending for the next channel, never to the dead letters; a refused
// template is a dead letter; a busy WeChat is retried.

// ChannelOA sends Official Account template messages.
const ChannelOA = "oa"

// OA calls the Official Account's APIs (*wechat.Client).
type OA interface {
	SendOATemplate(ctx context.Context, oa wechat.App, m wechat.OATemplateMessage) error
	OAUserInfo(ctx context.Context, oa wechat.App, openid string) (wechat.OAUser, error)
}

// SetOA adds the OA channel: secrets are sealed with box.
func (s *Service) SetOA(box *secretbox.Box, oa OA) {
	s.box, s.oa = box, oa
	s.channels[ChannelOA] = oaChannel{s}
}

// OASettings are the shop's linked OA as staff see them: secrets masked.
type OASettings struct {
	Configured bool       `json:"configured"`
	AppID      string     `json:"appid" doc:"the OA's AppID (it must be bound to the same open platform account as the mini program, for unionids)"`
	Secret     string     `json:"secret" doc:"masked: the last 4 characters, or empty when not set"`
	PushToken  string     `json:"push_token" doc:"masked: the Token of the OA's server settings (服务器配置)"`
	HasAESKey  bool       `json:"has_aes_key" doc:"whether an EncodingAESKey is stored (safe mode)"`
	PushPath   string     `json:"push_path" doc:"the URL path to set as the OA's server URL, after the public address"`
	UpdatedAt  *time.Time `json:"updated_at"`
}

// OASettingsInput sets the shop's linked OA.
type OASettingsInput struct {
	AppID          string `json:"appid"`
	Secret         string `json:"secret" doc:"empty keeps the stored secret"`
	PushToken      string `json:"push_token" doc:"3-32 letters or digits; empty keeps the stored one"`
	EncodingAESKey string `json:"encoding_aes_key" doc:"43 letters or digits (safe mode); empty keeps the stored one"`
}

var (
	oaAppIDPattern  = regexp.MustCompile(`^wx[0-9a-f]{16}$`)
	oaSecretPattern = regexp.MustCompile(`^[0-9A-Za-z]{16,64}$`)
	oaTokenPattern  = regexp.MustCompile(`^[0-9A-Za-z]{3,32}$`)
	oaAESPattern    = regexp.MustCompile(`^[0-9A-Za-z]{43}$`)
)

func (in OASettingsInput) validate(hasSecret bool) error {
	v := errs.Validator{}
	v.Check(oaAppIDPattern.MatchString(in.AppID), "appid", "appid is the OA's AppID: wx and 16 hex digits")
	v.Check(in.Secret == "" && hasSecret || oaSecretPattern.MatchString(in.Secret), "secret", "secret is the OA's AppSecret: 16-64 letters or digits")
	v.Check(in.PushToken == "" || oaTokenPattern.MatchString(in.PushToken), "push_token", "push_token is 3-32 letters or digits")
	v.Check(in.EncodingAESKey == "" || oaAESPattern.MatchString(in.EncodingAESKey), "encoding_aes_key", "encoding_aes_key is 43 letters or digits")
	return v.Err()
}

// oaStored is a shop's OA settings row, secrets sealed.
type oaStored struct {
	appid, secret, token, aesKey string
	updated                      int64
}

func (s *Service) oaStored(ctx context.Context, q db.Querier, shopID int64) (oaStored, bool, error) {
	if s.box == nil {
		return oaStored{}, false, errOANotConfigured // SetOA was not called
	}
	var st oaStored
	err := q.QueryRow(ctx, `SELECT appid, secret, push_token, aes_key, updated_at FROM oa_settings WHERE shop_id = ?`, shopID).
		Scan(&st.appid, &st.secret, &st.token, &st.aesKey, &st.updated)
	if db.IsNoRows(err) {
		return oaStored{}, false, nil
	}
	return st, err == nil, errs.Wrap("oa settings", err)
}

// PutOASettings creates or replaces the shop's OA settings; empty
// secrets keep the stored ones.
func (s *Service) PutOASettings(ctx context.Context, shopID int64, in OASettingsInput) (OASettings, error) {
	cur, _, err := s.oaStored(ctx, s.db, shopID)
	if err != nil {
		return OASettings{}, err
	}
	// Another OA: its secret is needed, and the old OA's followers (its own openids) are forgotten.
	other := cur.appid != "" && cur.appid != in.AppID
	if err := in.validate(cur.secret != "" && !other); err != nil {
		return OASettings{}, err
	}
	next := cur
	next.appid = in.AppID
	for _, f := range []struct {
		plain string
		to    *string
	}{{in.Secret, &next.secret}, {in.PushToken, &next.token}, {in.EncodingAESKey, &next.aesKey}} {
		if f.plain == "" {
			continue
		}
		if *f.to, err = s.box.Seal(f.plain); err != nil {
			return OASettings{}, errs.Wrap("seal oa secret", err)
		}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if other {
			if _, err := tx.Exec(ctx, `DELETE FROM oa_followers WHERE shop_id = ?`, shopID); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO oa_settings (shop_id, appid, secret, push_token, aes_key, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id) DO UPDATE SET appid = excluded.appid, secret = excluded.secret,
			push_token = excluded.push_token, aes_key = excluded.aes_key, updated_at = excluded.updated_at`,
			shopID, next.appid, next.secret, next.token, next.aesKey, s.nowMs())
		return err
	})
	if err != nil {
		return OASettings{}, errs.Wrap("put oa settings", err)
	}
	return s.OASettings(ctx, shopID)
}

// OASettings returns the shop's OA settings, secrets masked.
func (s *Service) OASettings(ctx context.Context, shopID int64) (OASettings, error) {
	out := OASettings{PushPath: OAPushPath(shopID)}
	st, ok, err := s.oaStored(ctx, s.db, shopID)
	if err != nil || !ok {
		return out, err
	}
	out.Configured, out.AppID, out.HasAESKey, out.UpdatedAt = true, st.appid, st.aesKey != "", timeOrNil(&st.updated)
	if out.Secret, err = s.openMasked(st.secret); err != nil {
		return OASettings{}, err
	}
	if out.PushToken, err = s.openMasked(st.token); err != nil {
		return OASettings{}, err
	}
	return out, nil
}

func (s *Service) openMasked(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	plain, err := s.box.Open(sealed)
	if err != nil {
		return "", errs.Wrap("open oa secret", err)
	}
	if len(plain) <= 4 {
		return "****", nil
	}
	return "****" + plain[len(plain)-4:], nil
}

// OAPushPath is where the OA pushes its events for the shop.
func OAPushPath(shopID int64) string {
	return "/webhooks/wechat/" + strconv.FormatInt(shopID, 10) + "/oa-push"
}

var errOANotConfigured = errs.E(errs.Conflict, "oa_not_configured", "this shop has no Official Account settings")

// oaApp is the shop's OA with its secret opened.
func (s *Service) oaApp(ctx context.Context, shopID int64) (wechat.App, error) {
	st, ok, err := s.oaStored(ctx, s.db, shopID)
	if err != nil {
		return wechat.App{}, err
	}
	if !ok {
		return wechat.App{}, errOANotConfigured
	}
	secret, err := s.box.Open(st.secret)
	if err != nil {
		return wechat.App{}, errs.Wrap("open oa secret", err)
	}
	return wechat.App{AppID: st.appid, Secret: secret}, nil
}

// OATemplate maps a message kind to a category template of the OA.
type OATemplate struct {
	Kind       string            `json:"kind" enum:"order_paid,order_shipped,order_refunded,membership_expiring"`
	TemplateID string            `json:"template_id" doc:"the template's id in the OA's 模板消息 → 我的模板"`
	Fields     map[string]string `json:"fields" doc:"keyword key (thing1, amount2, …) → source, as for subscription templates (the kind's sources or text:<fixed text>); category templates have no first/remark"`
	Enabled    bool              `json:"enabled"`
	UpdatedAt  *time.Time        `json:"updated_at" doc:"null when the kind has no OA template yet"`
}

// OATemplateInput sets a kind's OA template.
type OATemplateInput struct {
	Kind       string            `json:"kind" enum:"order_paid,order_shipped,order_refunded,membership_expiring"`
	TemplateID string            `json:"template_id"`
	Fields     map[string]string `json:"fields"`
	Enabled    *bool             `json:"enabled" doc:"default true"`
}

// OATemplateList is every OA kind with its template.
type OATemplateList struct {
	Templates []OATemplate `json:"templates"`
}

// oaKinds are the kinds the OA channel carries (those with "oa" in their
// channel order).
var oaKinds = []string{OrderPaid, OrderShipped, OrderRefunded, MembershipExpiring}

func oaKind(kind string) bool {
	for _, k := range channelOrder[kind] {
		if k == ChannelOA {
			return true
		}
	}
	return false
}

// SetOATemplate creates or replaces a kind's OA template.
func (s *Service) SetOATemplate(ctx context.Context, shopID int64, in OATemplateInput) (OATemplate, error) {
	if err := (TemplateInput{Kind: in.Kind, TemplateID: in.TemplateID, Fields: in.Fields}).validate(); err != nil {
		return OATemplate{}, err
	}
	if !oaKind(in.Kind) {
		return OATemplate{}, errs.E(errs.Invalid, "invalid_fields", "kind: the Official Account carries only order_paid, order_shipped, order_refunded, membership_expiring")
	}
	enabled := in.Enabled == nil || *in.Enabled
	fields, _ := json.Marshal(in.Fields)
	_, err := s.db.Exec(ctx, `INSERT INTO oa_templates (shop_id, kind, template_id, fields, enabled, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, kind) DO UPDATE SET template_id = excluded.template_id,
		fields = excluded.fields, enabled = excluded.enabled, updated_at = excluded.updated_at`,
		shopID, in.Kind, in.TemplateID, string(fields), enabled, s.nowMs())
	if err != nil {
		return OATemplate{}, errs.Wrap("set oa template", err)
	}
	return s.oaTemplate(ctx, s.db, shopID, in.Kind)
}

// OATemplates lists every OA kind with its template.
func (s *Service) OATemplates(ctx context.Context, shopID int64) ([]OATemplate, error) {
	out := make([]OATemplate, 0, len(oaKinds))
	for _, k := range oaKinds {
		t, err := s.oaTemplate(ctx, s.db, shopID, k)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (s *Service) oaTemplate(ctx context.Context, q db.Querier, shopID int64, kind string) (OATemplate, error) {
	t := OATemplate{Kind: kind, Fields: map[string]string{}}
	var fields string
	var updated int64
	err := q.QueryRow(ctx, `SELECT template_id, fields, enabled, updated_at FROM oa_templates WHERE shop_id = ? AND kind = ?`,
		shopID, kind).Scan(&t.TemplateID, &fields, &t.Enabled, &updated)
	if db.IsNoRows(err) {
		return t, nil
	}
	if err != nil {
		return OATemplate{}, errs.Wrap("oa template", err)
	}
	_ = json.Unmarshal([]byte(fields), &t.Fields)
	t.UpdatedAt = timeOrNil(&updated)
	return t, nil
}

// oaPlan is what the OA channel needs for a message, loaded before the
// claim: the template rendered and the member's following OA openid.
type oaPlan struct {
	openid, templateID string
	data               map[string]string
	problems           []Problem
}

func (s *Service) loadOAPlan(ctx context.Context, m outgoing, vars map[string]string) (oaPlan, error) {
	if s.oa == nil || !oaKind(m.Kind) {
		return oaPlan{}, nil
	}
	tpl, err := s.oaTemplate(ctx, s.db, m.ShopID, m.Kind)
	if err != nil || tpl.TemplateID == "" || !tpl.Enabled {
		return oaPlan{}, err
	}
	if _, ok, err := s.oaStored(ctx, s.db, m.ShopID); err != nil || !ok {
		return oaPlan{}, err
	}
	var p oaPlan
	err = s.db.QueryRow(ctx, `SELECT f.openid FROM members m
		JOIN oa_followers f ON f.shop_id = m.shop_id AND f.unionid = m.unionid
		WHERE m.shop_id = ? AND m.id = ? AND m.unionid <> '' AND f.following
		ORDER BY f.updated_at DESC LIMIT 1`, m.ShopID, m.MemberID).Scan(&p.openid)
	if db.IsNoRows(err) {
		return oaPlan{}, nil // not linked, or not following
	}
	if err != nil {
		return oaPlan{}, err
	}
	p.templateID = tpl.TemplateID
	p.data, p.problems = render(tpl.Fields, vars)
	return p, nil
}

// oaBody is what an OA message stores at claim, so a resend sends the
// same message to the same follower.
type oaBody struct {
	OpenID string            `json:"openid"`
	Data   map[string]string `json:"data"`
}

var errOABadFields = errors.New("messaging: OA keywords WeChat would refuse")

type oaChannel struct{ s *Service }

func (c oaChannel) claim(ctx context.Context, tx *db.Tx, m *outgoing, pl plan) (bool, error) {
	if pl.oa.openid == "" {
		return false, nil
	}
	if len(pl.oa.problems) > 0 {
		return false, errOABadFields
	}
	body, _ := json.Marshal(oaBody{OpenID: pl.oa.openid, Data: pl.oa.data})
	attempt := newAttemptID()
	m.State, m.Channel, m.TemplateID, m.AttemptID = Sending, ChannelOA, pl.oa.templateID, attempt
	m.Body, m.Page = string(body), pagePath(kindSpecs[m.Kind].page, m.RefID)
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE messages SET state = 'sending', channel = 'oa', template_id = ?, attempt_id = ?,
		title = ?, body = ?, page = ?, updated_at = ? WHERE shop_id = ? AND id = ? AND state = 'pending'`,
		m.TemplateID, attempt, kindTitle(m.Kind), m.Body, m.Page, c.s.nowMs(), m.ShopID, m.ID))
	return true, staleIfNoRows(err)
}

// deliver calls template/send; client_msg_id is the message's, so WeChat
// drops a resend of a message it already took.
func (c oaChannel) deliver(ctx context.Context, m outgoing) error {
	oa, err := c.s.oaApp(ctx, m.ShopID)
	if err != nil {
		return err
	}
	mini, err := c.s.apps.App(ctx, m.ShopID)
	if err != nil {
		return err
	}
	var b oaBody
	if err := json.Unmarshal([]byte(m.Body), &b); err != nil {
		return err
	}
	msg := wechat.OATemplateMessage{ToUser: b.OpenID, TemplateID: m.TemplateID, Data: map[string]wechat.KeywordValue{},
		Miniprogram: &wechat.OAMiniprogram{AppID: mini.AppID, PagePath: m.Page},
		ClientMsgID: "kd-" + strconv.FormatInt(m.ShopID, 10) + "-" + strconv.FormatInt(m.ID, 10)}
	for k, v := range b.Data {
		msg.Data[k] = wechat.KeywordValue{Value: v}
	}
	return c.s.oa.SendOATemplate(ctx, oa, msg)
}

// errFellThrough says an OA message went back to pending for the next
// channel.
var errFellThrough = errors.New("messaging: the OA cannot reach the member")

// settleOA records an OA attempt's outcome by class: sent; a user the OA
// cannot reach (43004, 40003) is marked not following and the message
// goes back to pending (errFellThrough: the caller claims it again, for
// the next channel); settings removed since the claim and refusals (40037
// template invalid, bad data) are dead letters; busy or no answer is
// retried with backoff, then dead-lettered.
func (s *Service) settleOA(ctx context.Context, m outgoing, callErr error, attempts int) error {
	now := s.nowMs()
	code := wechat.ErrCode(callErr)
	switch {
	case callErr == nil:
		return s.finish(ctx, m, Sent, "sent", 0, "", now, 0)
	case errs.Is(callErr, "oa_not_configured"):
		return s.finish(ctx, m, Dead, "refused", 0, "the shop's Official Account settings were removed", now, 0)
	case code != 0 && wechat.ClassifyOA(callErr) == wechat.OAUnreachable:
		return s.fallThrough(ctx, m, code, errs.StoredMessage(callErr), now)
	case code != 0 && wechat.ClassifyOA(callErr) == wechat.OARefused:
		return s.finish(ctx, m, Dead, "refused", code, errs.StoredMessage(callErr), now, 0)
	case attempts >= maxAttempts:
		return s.finish(ctx, m, Dead, "gave_up", code,
			fmt.Sprintf("gave up after %d attempts: %s", attempts, errs.StoredMessage(callErr)), now, 0)
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE messages SET attempt_id = '', attempts = attempts + 1, errcode = ?, reason = ?, updated_at = ?
			WHERE shop_id = ? AND id = ? AND state = 'sending' AND attempt_id = ?`,
			code, errs.StoredMessage(callErr), now, m.ShopID, m.ID, m.AttemptID)
		if err != nil {
			return err
		}
		return logAttempt(ctx, tx, m, "retry", code, errs.StoredMessage(callErr), now)
	})
	if err != nil {
		return err
	}
	return callErr
}

// fallThrough marks the follower not following and puts m back to
// pending, by compare-and-set on its attempt.
func (s *Service) fallThrough(ctx context.Context, m outgoing, code int, reason string, now int64) error {
	var b oaBody
	_ = json.Unmarshal([]byte(m.Body), &b)
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE messages SET state = 'pending', channel = '', template_id = '', attempt_id = '',
			attempts = attempts + 1, errcode = ?, reason = ?, updated_at = ?
			WHERE shop_id = ? AND id = ? AND state = 'sending' AND attempt_id = ?`, code, reason, now, m.ShopID, m.ID, m.AttemptID))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE oa_followers SET following = ?, updated_at = ? WHERE shop_id = ? AND openid = ?`,
			false, now, m.ShopID, b.OpenID); err != nil {
			return err
		}
		return logAttempt(ctx, tx, m, "unreachable", code, reason, now)
	})
	if db.IsNoRows(err) {
		return nil // another attempt settled it
	}
	if err != nil {
		return err
	}
	return errFellThrough
}

// OA follower events.
const (
	oaSubscribe   = "subscribe"
	oaUnsubscribe = "unsubscribe"
)

// OAPushed takes one push of the shop's OA: a subscribe or unsubscribe
// event records the follower as user/info reports it (a plain-mode push
// proves nothing about its body, so WeChat is asked), with its unionid.
// Other messages are acknowledged and ignored.
func (s *Service) OAPushed(ctx context.Context, shopID int64, p wechat.Push) error {
	if p.MsgType != "event" || (p.Event != oaSubscribe && p.Event != oaUnsubscribe) || p.FromUserName == "" {
		return nil
	}
	oa, err := s.oaApp(ctx, shopID)
	if err != nil {
		return err
	}
	u, err := s.oa.OAUserInfo(ctx, oa, p.FromUserName)
	if err != nil {
		return err
	}
	return s.recordFollower(ctx, shopID, p.FromUserName, u)
}

// recordFollower upserts a follower; a unionid user/info no longer gives
// (it is absent for a user who unfollowed) keeps the known one.
func (s *Service) recordFollower(ctx context.Context, shopID int64, openid string, u wechat.OAUser) error {
	_, err := s.db.Exec(ctx, `INSERT INTO oa_followers (shop_id, openid, unionid, following, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, openid) DO UPDATE SET following = excluded.following, updated_at = excluded.updated_at,
		unionid = CASE WHEN excluded.unionid <> '' THEN excluded.unionid ELSE oa_followers.unionid END`,
		shopID, openid, u.UnionID, u.Subscribe == 1, s.nowMs())
	return errs.Wrap("record oa follower", err)
}

// oaPushConfig is the push settings of the shop's OA.
func (s *Service) oaPushConfig(ctx context.Context, shopID int64) (wechat.PushConfig, error) {
	st, ok, err := s.oaStored(ctx, s.db, shopID)
	if err != nil {
		return wechat.PushConfig{}, err
	}
	if !ok || st.token == "" {
		return wechat.PushConfig{}, errs.E(errs.Conflict, "push_not_configured", "this shop has no Official Account push Token set")
	}
	cfg := wechat.PushConfig{AppID: st.appid}
	if cfg.Token, err = s.box.Open(st.token); err != nil {
		return wechat.PushConfig{}, errs.Wrap("open oa token", err)
	}
	if st.aesKey != "" {
		if cfg.EncodingAESKey, err = s.box.Open(st.aesKey); err != nil {
			return wechat.PushConfig{}, errs.Wrap("open oa aes key", err)
		}
	}
	return cfg, nil
}

// ReceiveOAPush verifies and handles a push of the shop's OA, answering
// what WeChat expects.
func (s *Service) ReceiveOAPush(ctx context.Context, shopID int64, query map[string][]string, body []byte) (string, error) {
	cfg, err := s.oaPushConfig(ctx, shopID)
	if err != nil {
		return "", err
	}
	p, err := wechat.OpenPush(cfg, query, body)
	if err != nil {
		return "", oaPushError(err)
	}
	if err := s.OAPushed(ctx, shopID, p); err != nil {
		return "", err
	}
	return wechat.PushAck, nil
}

// VerifyOAPushURL answers WeChat's check of the OA's server URL.
func (s *Service) VerifyOAPushURL(ctx context.Context, shopID int64, query map[string][]string) (string, error) {
	cfg, err := s.oaPushConfig(ctx, shopID)
	if err != nil {
		return "", err
	}
	echo, err := wechat.VerifyPushURL(cfg, query)
	return echo, oaPushError(err)
}

func oaPushError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wechat.ErrPushSignature):
		return errs.E(errs.Unauthenticated, "push_signature_invalid", "the push's signature does not verify with the OA's Token")
	case errors.Is(err, wechat.ErrPushMalformed):
		return errs.E(errs.Invalid, "push_malformed", "the push is not a WeChat message")
	default:
		return errs.E(errs.Conflict, "push_not_configured", err.Error())
	}
}

// OAFollower is a user of the shop's OA as its pushes reported them, with
// the member it links to by unionid.
type OAFollower struct {
	ID        int64     `json:"id"`
	OpenID    string    `json:"openid" doc:"the user's openid under the OA"`
	Following bool      `json:"following"`
	MemberID  *int64    `json:"member_id" doc:"the member with the same unionid; null when none has logged in with it"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OAFollowers lists the OA's users, newest first (id below after).
func (s *Service) OAFollowers(ctx context.Context, shopID, after int64, limit int) ([]OAFollower, error) {
	if after == 0 {
		after = 1 << 62
	}
	list, err := db.All(ctx, s.db, func(r db.Scanner) (OAFollower, error) {
		var f OAFollower
		var updated int64
		err := r.Scan(&f.ID, &f.OpenID, &f.Following, &f.MemberID, &updated)
		f.UpdatedAt = time.UnixMilli(updated).UTC()
		return f, err
	}, `SELECT f.id, f.openid, f.following,
		(SELECT MIN(m.id) FROM members m WHERE m.shop_id = f.shop_id AND m.unionid = f.unionid AND f.unionid <> ''), f.updated_at
		FROM oa_followers f WHERE f.shop_id = ? AND f.id < ? ORDER BY f.id DESC LIMIT ?`, shopID, after, limit+1)
	return list, errs.Wrap("oa followers", err)
}
