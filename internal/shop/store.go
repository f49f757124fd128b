package shop

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
)

// SecretsInput changes secrets: a nil field stays as it is, "" clears it.
type SecretsInput struct {
	AppSecret     *string `json:"app_secret,omitempty"`
	MchPrivateKey *string `json:"mch_private_key,omitempty"`
	APIv3Key      *string `json:"apiv3_key,omitempty"`
	PlatformCert  *string `json:"platform_cert,omitempty"`
	PayPublicKey  *string `json:"pay_public_key,omitempty"`
	// The message-push settings of the mini program's admin (开发管理 →
	// 消息推送): the Token and the EncodingAESKey (safe mode).
	PushToken  *string `json:"push_token,omitempty"`
	PushAESKey *string `json:"push_aes_key,omitempty"`
}

// CreateInput is what an operator gives to create a shop.
type CreateInput struct {
	Name            string        `json:"name"`
	AppID           string        `json:"appid"`
	SubjectType     SubjectType   `json:"subject_type"`
	BrandAuthorized bool          `json:"brand_authorized"`
	MchID           string        `json:"mch_id"`
	MchCertSerial   string        `json:"mch_cert_serial"`
	PayPublicKeyID  string        `json:"pay_public_key_id"`
	Secrets         *SecretsInput `json:"secrets,omitempty"`
}

// UpdateInput changes a shop; nil fields stay as they are. Subject type,
// brand authorization and disabling are for operators only.
type UpdateInput struct {
	Name            *string        `json:"name,omitempty"`
	SubjectType     *SubjectType   `json:"subject_type,omitempty"`
	BrandAuthorized *bool          `json:"brand_authorized,omitempty"`
	Disabled        *bool          `json:"disabled,omitempty"`
	MchID           *string        `json:"mch_id,omitempty"`
	MchCertSerial   *string        `json:"mch_cert_serial,omitempty"`
	PayPublicKeyID  *string        `json:"pay_public_key_id,omitempty"`
	PayMode         *PayMode       `json:"pay_mode,omitempty" doc:"operators: direct or partner (partner needs pay_provider_id and sub_mch_id)"`
	PayProviderID   *int64         `json:"pay_provider_id,omitempty"`
	SubMchID        *string        `json:"sub_mch_id,omitempty"`
	Secrets         *SecretsInput  `json:"secrets,omitempty"`
	Orders          *OrderSettings `json:"orders,omitempty"`
}

// Providers tells the shop service whether a WeChat Pay service provider
// exists (payprovider.Service, passed by server).
type Providers interface {
	Exists(ctx context.Context, id int64) (bool, error)
}

// Service stores shops and keeps a short cache of shops by appid for the
// mini-program API (every public request names its appid).
type Service struct {
	db  *db.DB
	box *secretbox.Box

	// NoPublicURL is set when serve runs without a public URL (--public-url):
	// WeChat Pay would send its notifications to http://<listen address>,
	// which it cannot reach, so WeChat Pay settings are not saved.
	NoPublicURL bool

	// Providers checks the service provider a partner-mode shop names.
	Providers Providers

	mu    sync.Mutex
	cache map[string]cachedShop // by appid
	byID  map[int64]cachedShop
}

type cachedShop struct {
	shop Shop
	at   time.Time
}

// cacheTTL bounds how long another process's change takes to be seen.
const cacheTTL = 3 * time.Second

// NewService returns the shop service; secrets are sealed with box.
func NewService(d *db.DB, box *secretbox.Box) *Service {
	return &Service{db: d, box: box, cache: map[string]cachedShop{}, byID: map[int64]cachedShop{}}
}

const shopColumns = `id, name, appid, subject_type, brand_authorized, disabled, mch_id, mch_cert_serial,
	pay_public_key_id, pay_mode, pay_provider_id, sub_mch_id, app_secret <> '', mch_private_key <> '', apiv3_key <> '', platform_cert <> '',
	pay_public_key <> '', push_token <> '', push_aes_key <> '', unpaid_cancel_minutes, shipping_fee, free_shipping_over, created_at, updated_at`

func scanShop(row db.Scanner) (Shop, error) {
	var s Shop
	var created, updated int64
	err := row.Scan(&s.ID, &s.Name, &s.AppID, &s.SubjectType, &s.BrandAuthorized, &s.Disabled, &s.MchID,
		&s.MchCertSerial, &s.PayPublicKeyID, &s.PayMode, &s.PayProviderID, &s.SubMchID, &s.SecretsSet.AppSecret, &s.SecretsSet.MchPrivateKey,
		&s.SecretsSet.APIv3Key, &s.SecretsSet.PlatformCert, &s.SecretsSet.PayPublicKey,
		&s.SecretsSet.PushToken, &s.SecretsSet.PushAESKey, &s.UnpaidCancelMinutes, &s.ShippingFee, &s.FreeShippingOver, &created, &updated)
	s.CreatedAt, s.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return s, err
}

// Create validates in and stores a new shop.
func (s *Service) Create(ctx context.Context, in CreateInput) (Shop, error) {
	if s.NoPublicURL && in.MchID != "" {
		return Shop{}, errPublicURLRequired
	}
	var v errs.Validator
	validName(&v, in.Name)
	v.Check(appIDPattern.MatchString(in.AppID), "appid", "must be a mini-program appid: wx followed by 16 hex digits")
	v.Check(ValidSubject(in.SubjectType), "subject_type", "must be personal, individual or enterprise")
	validatePay(&v, in.MchID, in.MchCertSerial, in.PayPublicKeyID)
	validateSecrets(&v, in.Secrets)
	if err := v.Err(); err != nil {
		return Shop{}, err
	}
	now := db.Now()
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO shops (name, appid, subject_type, brand_authorized, mch_id, mch_cert_serial,
		pay_public_key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		strings.TrimSpace(in.Name), in.AppID, in.SubjectType, in.BrandAuthorized, in.MchID, in.MchCertSerial,
		in.PayPublicKeyID, now, now).Scan(&id)
	if db.IsUniqueViolation(err) {
		return Shop{}, errs.Field("appid", "appid_taken", "another shop already uses this appid")
	}
	if err != nil {
		return Shop{}, errs.Wrap("create shop", err)
	}
	if err := s.writeSecrets(ctx, id, in.Secrets); err != nil {
		return Shop{}, err
	}
	return s.Get(ctx, id)
}

func validatePay(v *errs.Validator, mchID, serial, pubKeyID string) {
	v.Check(mchID == "" || mchIDPattern.MatchString(mchID), "mch_id", "must be the 8 to 12 digit merchant id")
	v.Check(serial == "" || serialPattern.MatchString(serial), "mch_cert_serial", "must be the hex serial of the merchant certificate")
	v.Check(pubKeyID == "" || strings.HasPrefix(pubKeyID, "PUB_KEY_ID_"), "pay_public_key_id", "must start with PUB_KEY_ID_")
}

// Get returns the shop with id.
func (s *Service) Get(ctx context.Context, id int64) (Shop, error) {
	sh, err := scanShop(s.db.QueryRow(ctx, `SELECT `+shopColumns+` FROM shops WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return Shop{}, errs.E(errs.NotFound, "shop_not_found", "no such shop")
	}
	return sh, errs.Wrap("get shop", err)
}

// ByAppID returns the enabled shop with appid, from a cache at most a few
// seconds old.
func (s *Service) ByAppID(ctx context.Context, appid string) (Shop, error) {
	s.mu.Lock()
	c, ok := s.cache[appid]
	s.mu.Unlock()
	if ok && time.Since(c.at) < cacheTTL {
		return c.shop, nil
	}
	sh, err := scanShop(s.db.QueryRow(ctx, `SELECT `+shopColumns+` FROM shops WHERE appid = ? AND disabled = FALSE`, appid))
	if db.IsNoRows(err) {
		return Shop{}, errs.E(errs.NotFound, "shop_not_found", "no enabled shop has this appid")
	}
	if err != nil {
		return Shop{}, errs.Wrap("shop by appid", err)
	}
	s.mu.Lock()
	s.cache[appid] = cachedShop{shop: sh, at: time.Now()}
	s.mu.Unlock()
	return sh, nil
}

// Enabled returns the shop with id from the same short cache, or NotFound
// when it does not exist or is disabled.
func (s *Service) Enabled(ctx context.Context, id int64) (Shop, error) {
	s.mu.Lock()
	c, ok := s.byID[id]
	s.mu.Unlock()
	if !ok || time.Since(c.at) >= cacheTTL {
		sh, err := s.Get(ctx, id)
		if err != nil {
			return Shop{}, err
		}
		c = cachedShop{shop: sh, at: time.Now()}
		s.mu.Lock()
		s.byID[id] = c
		s.mu.Unlock()
	}
	if c.shop.Disabled {
		return Shop{}, errs.E(errs.NotFound, "shop_not_found", "this shop is disabled")
	}
	return c.shop, nil
}

// List returns a page of every shop, oldest first: ids above after (0 =
// from the first), up to limit+1 rows so the caller knows whether there is
// a next page.
func (s *Service) List(ctx context.Context, after int64, limit int) ([]Shop, error) {
	out, err := db.All(ctx, s.db, scanShop, `SELECT `+shopColumns+` FROM shops WHERE id > ? ORDER BY id LIMIT ?`, after, limit+1)
	return out, errs.Wrap("list shops", err)
}

// Update applies in to the shop with id.
func (s *Service) Update(ctx context.Context, id int64, in UpdateInput) (Shop, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return Shop{}, err
	}
	applyUpdate(&cur, in)
	if s.NoPublicURL && (cur.MchID != "" || cur.Partner()) && in.touchesPay() {
		return Shop{}, errPublicURLRequired
	}
	var v errs.Validator
	if err := s.validatePayMode(ctx, &v, &cur); err != nil {
		return Shop{}, err
	}
	validName(&v, cur.Name)
	v.Check(ValidSubject(cur.SubjectType), "subject_type", "must be personal, individual or enterprise")
	validatePay(&v, cur.MchID, cur.MchCertSerial, cur.PayPublicKeyID)
	validateSecrets(&v, in.Secrets)
	validateOrderSettings(&v, cur.OrderSettings)
	if err := v.Err(); err != nil {
		return Shop{}, err
	}
	_, err = s.db.Exec(ctx, `UPDATE shops SET name = ?, subject_type = ?, brand_authorized = ?, disabled = ?,
		mch_id = ?, mch_cert_serial = ?, pay_public_key_id = ?, pay_mode = ?, pay_provider_id = ?, sub_mch_id = ?,
		unpaid_cancel_minutes = ?, shipping_fee = ?, free_shipping_over = ?, updated_at = ? WHERE id = ?`,
		strings.TrimSpace(cur.Name), cur.SubjectType, cur.BrandAuthorized, cur.Disabled, cur.MchID,
		cur.MchCertSerial, cur.PayPublicKeyID, cur.PayMode, cur.PayProviderID, cur.SubMchID, cur.UnpaidCancelMinutes, cur.ShippingFee, cur.FreeShippingOver, db.Now(), id)
	if err != nil {
		return Shop{}, errs.Wrap("update shop", err)
	}
	if err := s.writeSecrets(ctx, id, in.Secrets); err != nil {
		return Shop{}, err
	}
	s.forget(cur.AppID, id)
	return s.Get(ctx, id)
}

var errPublicURLRequired = errs.E(errs.Conflict, "public_url_required",
	"this server has no public URL for WeChat Pay's notifications: start it with --public-url (KAIDIAN_PUBLIC_URL) set to its public https:// address, then save the WeChat Pay settings")

// validatePayMode checks the pay mode: partner needs an existing provider
// and a sub-merchant id; direct clears both.
func (s *Service) validatePayMode(ctx context.Context, v *errs.Validator, cur *Shop) error {
	switch cur.PayMode {
	case PayDirect:
		cur.PayProviderID, cur.SubMchID = 0, ""
		return nil
	case PayPartner:
	default:
		v.Check(false, "pay_mode", "must be direct or partner")
		return nil
	}
	v.Check(mchIDPattern.MatchString(cur.SubMchID), "sub_mch_id", "must be the 8 to 12 digit sub-merchant id")
	ok := cur.PayProviderID > 0
	if ok && s.Providers != nil {
		var err error
		if ok, err = s.Providers.Exists(ctx, cur.PayProviderID); err != nil {
			return err
		}
	}
	v.Check(ok, "pay_provider_id", "must name an existing WeChat Pay service provider")
	return nil
}

// touchesPay reports whether in changes WeChat Pay settings or secrets.
func (in UpdateInput) touchesPay() bool {
	return in.MchID != nil || in.PayMode != nil || in.PayProviderID != nil || in.SubMchID != nil || in.MchCertSerial != nil || in.PayPublicKeyID != nil ||
		(in.Secrets != nil && (in.Secrets.MchPrivateKey != nil || in.Secrets.APIv3Key != nil ||
			in.Secrets.PlatformCert != nil || in.Secrets.PayPublicKey != nil))
}

func applyUpdate(cur *Shop, in UpdateInput) {
	setIf(&cur.Name, in.Name)
	setIf(&cur.SubjectType, in.SubjectType)
	setIf(&cur.BrandAuthorized, in.BrandAuthorized)
	setIf(&cur.Disabled, in.Disabled)
	setIf(&cur.MchID, in.MchID)
	setIf(&cur.MchCertSerial, in.MchCertSerial)
	setIf(&cur.PayPublicKeyID, in.PayPublicKeyID)
	setIf(&cur.PayMode, in.PayMode)
	setIf(&cur.PayProviderID, in.PayProviderID)
	setIf(&cur.SubMchID, in.SubMchID)
	setIf(&cur.OrderSettings, in.Orders)
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (s *Service) forget(appid string, id int64) {
	s.mu.Lock()
	delete(s.cache, appid)
	delete(s.byID, id)
	s.mu.Unlock()
}

var secretColumns = []struct {
	column string
	get    func(*SecretsInput) *string
}{
	{"app_secret", func(in *SecretsInput) *string { return in.AppSecret }},
	{"mch_private_key", func(in *SecretsInput) *string { return in.MchPrivateKey }},
	{"apiv3_key", func(in *SecretsInput) *string { return in.APIv3Key }},
	{"platform_cert", func(in *SecretsInput) *string { return in.PlatformCert }},
	{"pay_public_key", func(in *SecretsInput) *string { return in.PayPublicKey }},
	{"push_token", func(in *SecretsInput) *string { return in.PushToken }},
	{"push_aes_key", func(in *SecretsInput) *string { return in.PushAESKey }},
}

// writeSecrets seals and stores the secrets that in sets.
func (s *Service) writeSecrets(ctx context.Context, id int64, in *SecretsInput) error {
	if in == nil {
		return nil
	}
	for _, c := range secretColumns {
		v := c.get(in)
		if v == nil {
			continue
		}
		sealed, err := s.box.Seal(*v)
		if err != nil {
			return errs.Wrap("seal secret", err)
		}
		if _, err := s.db.Exec(ctx, `UPDATE shops SET `+c.column+` = ? WHERE id = ?`, sealed, id); err != nil {
			return errs.Wrap("store secret", err)
		}
	}
	return nil
}

// Secrets returns the shop's credentials in clear, for server-side calls to
// WeChat. Never send them to a client or a log.
func (s *Service) Secrets(ctx context.Context, id int64) (Secrets, error) {
	var sealed [7]string
	err := s.db.QueryRow(ctx, `SELECT app_secret, mch_private_key, apiv3_key, platform_cert, pay_public_key, push_token, push_aes_key
		FROM shops WHERE id = ?`, id).Scan(&sealed[0], &sealed[1], &sealed[2], &sealed[3], &sealed[4], &sealed[5], &sealed[6])
	if db.IsNoRows(err) {
		return Secrets{}, errs.E(errs.NotFound, "shop_not_found", "no such shop")
	}
	if err != nil {
		return Secrets{}, errs.Wrap("read secrets", err)
	}
	var plain [7]string
	for i, v := range sealed {
		if plain[i], err = s.box.Open(v); err != nil {
			return Secrets{}, errs.Wrap("open secret", err)
		}
	}
	return Secrets{AppSecret: plain[0], MchPrivateKey: plain[1], APIv3Key: plain[2], PlatformCert: plain[3], PayPublicKey: plain[4],
		PushToken: plain[5], PushAESKey: plain[6]}, nil
}
