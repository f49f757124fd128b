// Package payprovider keeps the WeChat Pay service providers (服务商) of a
// deployment: an agency's merchant account that takes payments for the
// shops it serves as their sub-merchants (特约商户). All keys are the
// provider's (its merchant id and the mini program it registered, its API
// certificate and private key, APIv3 key, platform certificate or WeChat
// Pay public key); a shop in partner mode names a provider and stores only
// its sub_mchid. Providers are platform-wide and written only by operators;
// their secrets are sealed like shops'.
package payprovider

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
)

// Provider is a service provider as the API shows it: secrets appear only
// as "is set".
type Provider struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	SpMchID        string     `json:"sp_mch_id" doc:"the provider's merchant id (sp_mchid)"`
	SpAppID        string     `json:"sp_appid" doc:"the appid registered with the provider (sp_appid); buyers of a shop whose own appid is this one pay as sp_openid"`
	MchCertSerial  string     `json:"mch_cert_serial"`
	PayPublicKeyID string     `json:"pay_public_key_id"`
	SecretsSet     SecretsSet `json:"secrets_set"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// SecretsSet says which secrets are configured, without showing them.
type SecretsSet struct {
	MchPrivateKey bool `json:"mch_private_key"`
	APIv3Key      bool `json:"apiv3_key"`
	PlatformCert  bool `json:"platform_cert"`
	PayPublicKey  bool `json:"pay_public_key"`
}

// Secrets are a provider's keys in clear, for server-side use only: no
// JSON tags, and String hides them.
type Secrets struct {
	MchPrivateKey string
	APIv3Key      string
	PlatformCert  string
	PayPublicKey  string
}

// String keeps secrets out of logs and error messages.
func (Secrets) String() string { return "[secrets hidden]" }

// GoString keeps secrets out of %#v.
func (Secrets) GoString() string { return "[secrets hidden]" }

// SecretsInput changes secrets: a nil field stays as it is, "" clears it.
type SecretsInput struct {
	MchPrivateKey *string `json:"mch_private_key,omitempty"`
	APIv3Key      *string `json:"apiv3_key,omitempty"`
	PlatformCert  *string `json:"platform_cert,omitempty"`
	PayPublicKey  *string `json:"pay_public_key,omitempty"`
}

// CreateInput is what an operator gives to add a provider.
type CreateInput struct {
	Name           string        `json:"name"`
	SpMchID        string        `json:"sp_mch_id"`
	SpAppID        string        `json:"sp_appid"`
	MchCertSerial  string        `json:"mch_cert_serial"`
	PayPublicKeyID string        `json:"pay_public_key_id"`
	Secrets        *SecretsInput `json:"secrets,omitempty" doc:"write-only; responses show only whether each is set"`
}

// UpdateInput changes a provider; nil fields stay as they are. Its
// merchant id is fixed: a different one is a different provider.
type UpdateInput struct {
	Name           *string       `json:"name,omitempty"`
	SpAppID        *string       `json:"sp_appid,omitempty"`
	MchCertSerial  *string       `json:"mch_cert_serial,omitempty"`
	PayPublicKeyID *string       `json:"pay_public_key_id,omitempty"`
	Secrets        *SecretsInput `json:"secrets,omitempty" doc:"write-only; responses show only whether each is set"`
}

var (
	appIDPattern  = regexp.MustCompile(`^wx[0-9a-f]{16}$`)
	mchIDPattern  = regexp.MustCompile(`^[0-9]{8,12}$`)
	serialPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8,64}$`)
)

// Service stores providers, with a short cache for the payment path.
type Service struct {
	db  *db.DB
	box *secretbox.Box

	mu    sync.Mutex
	cache map[int64]cached
}

type cached struct {
	p  Provider
	at time.Time
}

// cacheTTL bounds how long another process's change takes to be seen.
const cacheTTL = 3 * time.Second

// NewService returns the provider service; secrets are sealed with box.
func NewService(d *db.DB, box *secretbox.Box) *Service {
	return &Service{db: d, box: box, cache: map[int64]cached{}}
}

const columns = `id, name, sp_mch_id, sp_appid, mch_cert_serial, pay_public_key_id, mch_private_key <> '',
	apiv3_key <> '', platform_cert <> '', pay_public_key <> '', created_at, updated_at`

func scan(row db.Scanner) (Provider, error) {
	var p Provider
	var created, updated int64
	err := row.Scan(&p.ID, &p.Name, &p.SpMchID, &p.SpAppID, &p.MchCertSerial, &p.PayPublicKeyID,
		&p.SecretsSet.MchPrivateKey, &p.SecretsSet.APIv3Key, &p.SecretsSet.PlatformCert, &p.SecretsSet.PayPublicKey, &created, &updated)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return p, err
}

func validate(v *errs.Validator, p Provider) {
	n := len([]rune(strings.TrimSpace(p.Name)))
	v.Check(n >= 1 && n <= 60, "name", "must be 1 to 60 characters")
	v.Check(mchIDPattern.MatchString(p.SpMchID), "sp_mch_id", "must be the provider's 8 to 12 digit merchant id")
	v.Check(appIDPattern.MatchString(p.SpAppID), "sp_appid", "must be an appid: wx followed by 16 hex digits")
	v.Check(p.MchCertSerial == "" || serialPattern.MatchString(p.MchCertSerial), "mch_cert_serial", "must be the hex serial of the provider's merchant certificate")
	v.Check(p.PayPublicKeyID == "" || strings.HasPrefix(p.PayPublicKeyID, "PUB_KEY_ID_"), "pay_public_key_id", "must start with PUB_KEY_ID_")
}

func validateSecrets(v *errs.Validator, s *SecretsInput) {
	if s == nil {
		return
	}
	if s.APIv3Key != nil && *s.APIv3Key != "" {
		v.Check(len(*s.APIv3Key) == 32, "apiv3_key", "must be exactly 32 bytes")
	}
	if s.MchPrivateKey != nil && *s.MchPrivateKey != "" {
		_, err := wechatpay.ParsePrivateKey(*s.MchPrivateKey)
		v.Check(err == nil, "mch_private_key", "must be a PEM RSA private key")
	}
	if s.PlatformCert != nil && *s.PlatformCert != "" {
		_, err := wechatpay.ParseCertificate(*s.PlatformCert)
		v.Check(err == nil, "platform_cert", "must be a PEM certificate")
	}
	if s.PayPublicKey != nil && *s.PayPublicKey != "" {
		_, err := wechatpay.ParsePublicKey(*s.PayPublicKey)
		v.Check(err == nil, "pay_public_key", "must be a PEM public key")
	}
}

// Create validates in and stores a new provider.
func (s *Service) Create(ctx context.Context, in CreateInput) (Provider, error) {
	p := Provider{Name: in.Name, SpMchID: in.SpMchID, SpAppID: in.SpAppID, MchCertSerial: in.MchCertSerial, PayPublicKeyID: in.PayPublicKeyID}
	var v errs.Validator
	validate(&v, p)
	validateSecrets(&v, in.Secrets)
	if err := v.Err(); err != nil {
		return Provider{}, err
	}
	now := db.Now()
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO pay_providers (name, sp_mch_id, sp_appid, mch_cert_serial, pay_public_key_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, strings.TrimSpace(p.Name), p.SpMchID, p.SpAppID, p.MchCertSerial,
			p.PayPublicKeyID, now, now).Scan(&id)
		if err != nil {
			return err
		}
		return s.writeSecrets(ctx, tx, id, in.Secrets)
	})
	if db.IsUniqueViolation(err) {
		return Provider{}, errs.E(errs.Conflict, "pay_provider_taken", "another provider already has this merchant id")
	}
	if err != nil {
		return Provider{}, errs.Wrap("create pay provider", err)
	}
	return s.Get(ctx, id)
}

// Get returns the provider with id.
func (s *Service) Get(ctx context.Context, id int64) (Provider, error) {
	p, err := scan(s.db.QueryRow(ctx, `SELECT `+columns+` FROM pay_providers WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return Provider{}, errs.E(errs.NotFound, "pay_provider_not_found", "no such WeChat Pay service provider")
	}
	return p, errs.Wrap("get pay provider", err)
}

// Cached is Get from a cache at most a few seconds old (the payment path
// asks on every call).
func (s *Service) Cached(ctx context.Context, id int64) (Provider, error) {
	s.mu.Lock()
	c, ok := s.cache[id]
	s.mu.Unlock()
	if ok && time.Since(c.at) < cacheTTL {
		return c.p, nil
	}
	p, err := s.Get(ctx, id)
	if err != nil {
		return Provider{}, err
	}
	s.mu.Lock()
	s.cache[id] = cached{p: p, at: time.Now()}
	s.mu.Unlock()
	return p, nil
}

// Exists reports whether a provider with id exists.
func (s *Service) Exists(ctx context.Context, id int64) (bool, error) {
	_, err := s.Get(ctx, id)
	if errs.Is(err, "pay_provider_not_found") {
		return false, nil
	}
	return err == nil, err
}

// List returns a page of providers, oldest first: ids above after, up to
// limit+1 rows.
func (s *Service) List(ctx context.Context, after int64, limit int) ([]Provider, error) {
	out, err := db.All(ctx, s.db, scan, `SELECT `+columns+` FROM pay_providers WHERE id > ? ORDER BY id LIMIT ?`, after, limit+1)
	return out, errs.Wrap("list pay providers", err)
}

// Update applies in to the provider with id.
func (s *Service) Update(ctx context.Context, id int64, in UpdateInput) (Provider, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return Provider{}, err
	}
	setIf(&p.Name, in.Name)
	setIf(&p.SpAppID, in.SpAppID)
	setIf(&p.MchCertSerial, in.MchCertSerial)
	setIf(&p.PayPublicKeyID, in.PayPublicKeyID)
	var v errs.Validator
	validate(&v, p)
	validateSecrets(&v, in.Secrets)
	if err := v.Err(); err != nil {
		return Provider{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE pay_providers SET name = ?, sp_appid = ?, mch_cert_serial = ?, pay_public_key_id = ?, updated_at = ?
			WHERE id = ?`, strings.TrimSpace(p.Name), p.SpAppID, p.MchCertSerial, p.PayPublicKeyID, db.Now(), id)
		if err != nil {
			return err
		}
		return s.writeSecrets(ctx, tx, id, in.Secrets)
	})
	if err != nil {
		return Provider{}, errs.Wrap("update pay provider", err)
	}
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
	return s.Get(ctx, id)
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

var secretColumns = []struct {
	column string
	get    func(*SecretsInput) *string
}{
	{"mch_private_key", func(in *SecretsInput) *string { return in.MchPrivateKey }},
	{"apiv3_key", func(in *SecretsInput) *string { return in.APIv3Key }},
	{"platform_cert", func(in *SecretsInput) *string { return in.PlatformCert }},
	{"pay_public_key", func(in *SecretsInput) *string { return in.PayPublicKey }},
}

// writeSecrets seals and stores the secrets that in sets.
func (s *Service) writeSecrets(ctx context.Context, tx *db.Tx, id int64, in *SecretsInput) error {
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
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE pay_providers SET `+c.column+` = ? WHERE id = ?`, sealed, id); err != nil {
			return err
		}
	}
	return nil
}

// Secrets returns the provider's keys in clear, for server-side calls to
// WeChat Pay. Never send them to a client or a log.
func (s *Service) Secrets(ctx context.Context, id int64) (Secrets, error) {
	var sealed [4]string
	err := s.db.QueryRow(ctx, `SELECT mch_private_key, apiv3_key, platform_cert, pay_public_key FROM pay_providers WHERE id = ?`, id).
		Scan(&sealed[0], &sealed[1], &sealed[2], &sealed[3])
	if db.IsNoRows(err) {
		return Secrets{}, errs.E(errs.NotFound, "pay_provider_not_found", "no such WeChat Pay service provider")
	}
	if err != nil {
		return Secrets{}, errs.Wrap("read pay provider secrets", err)
	}
	var plain [4]string
	for i, v := range sealed {
		if plain[i], err = s.box.Open(v); err != nil {
			return Secrets{}, errs.Wrap("open pay provider secret", err)
		}
	}
	return Secrets{MchPrivateKey: plain[0], APIv3Key: plain[1], PlatformCert: plain[2], PayPublicKey: plain[3]}, nil
}
