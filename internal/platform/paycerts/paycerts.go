// Package paycerts keeps each shop's WeChat Pay platform certificates in
// the database, downloaded from WeChat (GET /v3/certificates) every 12
// hours and on demand when a message names a serial nobody knows yet.
//
// The certificates live in the database rather than in each process so
// that every server process of a cluster trusts the same keys at once, a
// restart needs no download before the first payment, the periodic refresh
// runs once per cluster, and the on-demand downloads (which a forger can
// provoke with made-up serials) are limited per shop across the cluster,
// not per process.
package paycerts

import (
	"context"
	"crypto/x509"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"log/slog"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
)

// DefaultMinInterval is the least time between two on-demand downloads of
// one shop's certificates.
const DefaultMinInterval = time.Minute

// RefreshEvery is how often every shop's certificates are downloaded.
const RefreshEvery = 12 * time.Hour

// Downloader fetches platform certificates: a *wechatpay.Client.
type Downloader interface {
	DownloadCertificates(ctx context.Context) ([]wechatpay.PlatformCertificate, error)
}

// Store keeps platform certificates per shop.
type Store struct {
	db          *db.DB
	log         *slog.Logger
	minInterval time.Duration
	now         func() time.Time
}

// New returns a store on d.
func New(d *db.DB, log *slog.Logger) *Store {
	return &Store{db: d, log: log, minInterval: DefaultMinInterval, now: time.Now}
}

// SetClock replaces the clock (for tests); nil restores time.Now.
func (s *Store) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// Load returns the shop's stored certificates that have not expired.
func (s *Store) Load(ctx context.Context, shopID int64) ([]*x509.Certificate, error) {
	pems, err := db.All(ctx, s.db, func(r db.Scanner) (string, error) {
		var p string
		return p, r.Scan(&p)
	}, `SELECT cert_pem FROM wechatpay_platform_certs WHERE shop_id = ? AND expire_at > ? ORDER BY effective_at DESC`,
		shopID, s.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, 0, len(pems))
	for _, p := range pems {
		cert, err := wechatpay.ParseCertificate(p)
		if err != nil {
			return nil, err // only certificates that parsed were stored
		}
		certs = append(certs, cert)
	}
	return certs, nil
}

// Refresh downloads the shop's certificates now, stores them (dropping
// expired ones) and returns every stored certificate still valid.
func (s *Store) Refresh(ctx context.Context, shopID int64, d Downloader) ([]*x509.Certificate, error) {
	if err := s.ensureRow(ctx, shopID); err != nil {
		return nil, err
	}
	certs, err := d.DownloadCertificates(ctx)
	if err != nil {
		s.recordError(ctx, shopID, err)
		return nil, err
	}
	if err := s.save(ctx, shopID, certs); err != nil {
		return nil, err
	}
	return s.Load(ctx, shopID)
}

// RefreshLimited is Refresh at most once per minimum interval per shop
// (across all processes); within the interval it returns the stored
// certificates, which another process may just have refreshed.
func (s *Store) RefreshLimited(ctx context.Context, shopID int64, d Downloader) ([]*x509.Certificate, error) {
	claimed, err := s.claim(ctx, shopID)
	if err != nil {
		return nil, err
	}
	if !claimed {
		return s.Load(ctx, shopID)
	}
	return s.Refresh(ctx, shopID, d)
}

// Shops lists the shops whose certificates are kept up to date: every shop
// that has downloaded, or tried to.
func (s *Store) Shops(ctx context.Context) ([]int64, error) {
	return db.All(ctx, s.db, func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT shop_id FROM wechatpay_cert_refreshes ORDER BY shop_id`)
}

// Track puts a shop on the refresh list without downloading now.
func (s *Store) Track(ctx context.Context, shopID int64) error { return s.ensureRow(ctx, shopID) }

func (s *Store) ensureRow(ctx context.Context, shopID int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO wechatpay_cert_refreshes (shop_id) VALUES (?) ON CONFLICT (shop_id) DO NOTHING`, shopID)
	return err
}

// claim takes the shop's on-demand download slot: a compare-and-set on
// tried_at, so of several processes only one downloads per interval.
func (s *Store) claim(ctx context.Context, shopID int64) (bool, error) {
	if err := s.ensureRow(ctx, shopID); err != nil {
		return false, err
	}
	now := s.now()
	res, err := s.db.Exec(ctx, `UPDATE wechatpay_cert_refreshes SET tried_at = ? WHERE shop_id = ? AND tried_at <= ?`,
		now.UnixMilli(), shopID, now.Add(-s.minInterval).UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *Store) save(ctx context.Context, shopID int64, certs []wechatpay.PlatformCertificate) error {
	now := s.now().UnixMilli()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, c := range certs {
			_, err := tx.Exec(ctx, `INSERT INTO wechatpay_platform_certs (shop_id, serial, cert_pem, effective_at, expire_at, fetched_at)
				VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (shop_id, serial) DO UPDATE SET fetched_at = excluded.fetched_at`,
				shopID, c.Serial, c.PEM, c.EffectiveTime.UnixMilli(), c.ExpireTime.UnixMilli(), now)
			if err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM wechatpay_platform_certs WHERE shop_id = ? AND expire_at <= ?`, shopID, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE wechatpay_cert_refreshes SET refreshed_at = ?, last_error = '' WHERE shop_id = ?`, now, shopID)
		return err
	})
}

func (s *Store) recordError(ctx context.Context, shopID int64, cause error) {
	msg := errs.StoredMessage(cause)
	if _, err := s.db.Exec(ctx, `UPDATE wechatpay_cert_refreshes SET last_error = ? WHERE shop_id = ?`, msg, shopID); err != nil {
		s.log.Warn("record certificate refresh error", "shop", shopID, "err", err)
	}
	s.log.Warn("WeChat Pay platform certificate download failed", "shop", shopID, "err", msg)
}
