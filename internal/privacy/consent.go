package privacy

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Consent kinds.
const (
	PrivacyPolicy = "privacy_policy"
	UserAgreement = "user_agreement"
	Marketing     = "marketing"
)

var kinds = []string{PrivacyPolicy, UserAgreement, Marketing}

// Policy is a document version in force.
type Policy struct {
	Kind        string    `json:"kind" enum:"privacy_policy,user_agreement"`
	Version     string    `json:"version" doc:"the shop's label, e.g. 2026-12-01"`
	URL         string    `json:"url" doc:"where the text is (https)"`
	PublishedAt time.Time `json:"published_at"`
}

// Policies are the shop's documents in force (none until staff publish).
func (s *Service) Policies(ctx context.Context, shopID int64) ([]Policy, error) {
	out, err := db.All(ctx, s.db, func(r db.Scanner) (Policy, error) {
		var p Policy
		var at int64
		err := r.Scan(&p.Kind, &p.Version, &p.URL, &at)
		p.PublishedAt = time.UnixMilli(at).UTC()
		return p, err
	}, `SELECT kind, version, url, published_at FROM privacy_policies WHERE shop_id = ? ORDER BY kind`, shopID)
	return out, errs.Wrap("read policies", err)
}

// Publish puts a new version of a document in force: members who accepted
// another version are asked again.
func (s *Service) Publish(ctx context.Context, shopID int64, p Policy) (Policy, error) {
	var v errs.Validator
	v.Check(p.Kind == PrivacyPolicy || p.Kind == UserAgreement, "kind", "privacy_policy or user_agreement")
	v.Check(p.Version != "" && utf8.RuneCountInString(p.Version) <= 40, "version", "1 to 40 characters")
	v.Check(strings.HasPrefix(p.URL, "https://") && len(p.URL) <= 500, "url", "an https:// address of at most 500 bytes")
	if err := v.Err(); err != nil {
		return Policy{}, err
	}
	p.PublishedAt = s.now().UTC().Truncate(time.Millisecond)
	_, err := s.db.Exec(ctx, `INSERT INTO privacy_policies (shop_id, kind, version, url, published_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, kind) DO UPDATE SET version = excluded.version, url = excluded.url, published_at = excluded.published_at`,
		shopID, p.Kind, p.Version, p.URL, p.PublishedAt.UnixMilli())
	return p, errs.Wrap("publish policy", err)
}

// ConsentInput gives or withdraws one consent.
type ConsentInput struct {
	Kind    string `json:"kind" enum:"privacy_policy,user_agreement,marketing"`
	Version string `json:"version" doc:"the version shown (privacy_policy, user_agreement: must be the one in force); empty for marketing"`
	Granted bool   `json:"granted" doc:"false withdraws"`
}

// ConsentState is where a member stands on one kind.
type ConsentState struct {
	Kind           string     `json:"kind"`
	Granted        bool       `json:"granted"`
	Version        string     `json:"version" doc:"the version accepted or withdrawn"`
	At             *time.Time `json:"at" doc:"when; null if never asked"`
	CurrentVersion string     `json:"current_version" doc:"the version in force (policies only)"`
	NeedsConsent   bool       `json:"needs_consent" doc:"a policy in force that the member has not accepted in this version: show it"`
}

// Record gives or withdraws a consent. Withdrawing marketing puts the
// member on the opt-out list campaigns skip (giving it takes them off);
// withdrawing the privacy policy or the user agreement ends their sessions:
// the app asks again before it is used.
func (s *Service) Record(ctx context.Context, shopID, memberID int64, in ConsentInput, addr string) ([]ConsentState, error) {
	if !slices.Contains(kinds, in.Kind) {
		return nil, errs.Field("kind", "invalid_kind", "privacy_policy, user_agreement or marketing")
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := memberOf(ctx, tx, shopID, memberID); err != nil {
			return err
		}
		if err := s.checkVersion(ctx, tx, shopID, in); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO consents (shop_id, member_id, kind, version, granted, addr, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, shopID, memberID, in.Kind, in.Version, in.Granted, addr, s.now().UnixMilli()); err != nil {
			return err
		}
		switch {
		case in.Kind == Marketing && in.Granted:
			return s.marketing.OptIn(ctx, tx, shopID, memberID)
		case in.Kind == Marketing:
			return s.marketing.OptOut(ctx, tx, shopID, memberID)
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap("record consent", err)
	}
	if in.Kind != Marketing && !in.Granted {
		if _, err := s.sessions.RevokeSessions(ctx, shopID, memberID); err != nil {
			return nil, err
		}
	}
	return s.Consents(ctx, shopID, memberID)
}

// checkVersion: a policy is accepted in the version in force only.
func (s *Service) checkVersion(ctx context.Context, tx *db.Tx, shopID int64, in ConsentInput) error {
	if in.Kind == Marketing || !in.Granted {
		return nil
	}
	var current string
	err := tx.QueryRow(ctx, `SELECT version FROM privacy_policies WHERE shop_id = ? AND kind = ?`, shopID, in.Kind).Scan(&current)
	if db.IsNoRows(err) {
		return errs.E(errs.Conflict, "no_policy", "the shop has not published this document")
	}
	if err != nil {
		return err
	}
	if in.Version != current {
		return errs.E(errs.Conflict, "stale_version", "this version is not the one in force ("+current+"): show the current one")
	}
	return nil
}

// Consents is where the member stands on every kind.
func (s *Service) Consents(ctx context.Context, shopID, memberID int64) ([]ConsentState, error) {
	policies, err := s.Policies(ctx, shopID)
	if err != nil {
		return nil, err
	}
	out := make([]ConsentState, 0, len(kinds))
	for _, k := range kinds {
		st := ConsentState{Kind: k}
		var at int64
		err := s.db.QueryRow(ctx, `SELECT granted, version, created_at FROM consents WHERE shop_id = ? AND member_id = ? AND kind = ?
			ORDER BY id DESC LIMIT 1`, shopID, memberID, k).Scan(&st.Granted, &st.Version, &at)
		if err != nil && !db.IsNoRows(err) {
			return nil, errs.Wrap("read consents", err)
		}
		if err == nil {
			t := time.UnixMilli(at).UTC()
			st.At = &t
		}
		for _, p := range policies {
			if p.Kind == k {
				st.CurrentVersion = p.Version
				st.NeedsConsent = !st.Granted || st.Version != p.Version
			}
		}
		out = append(out, st)
	}
	return out, nil
}
