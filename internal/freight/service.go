package freight

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

var errNotFound = errs.E(errs.NotFound, "freight_template_not_found", "no such freight template")

// Service stores the shops' freight templates.
type Service struct {
	db *db.DB
	// cache holds decoded templates for checkout by id, each with the
	// version (updated_at, which every change moves forward) it was read
	// at: checkout reads the version with the order's lines and decodes a
	// template again only when it changed.
	mu    sync.RWMutex
	cache map[int64]*Template
}

// NewService returns the freight template store.
func NewService(d *db.DB) *Service { return &Service{db: d, cache: map[int64]*Template{}} }

// body is what the rules column holds.
type body struct {
	Default    Rule     `json:"default"`
	Rules      []Rule   `json:"rules"`
	Free       []Free   `json:"free"`
	NoDelivery []string `json:"no_delivery"`
}

func (in Input) body() string {
	b, _ := json.Marshal(body{Default: in.Default, Rules: nonNil(in.Rules), Free: nonNil(in.Free), NoDelivery: nonNil(in.NoDelivery)})
	return string(b)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Create stores a new template.
func (s *Service) Create(ctx context.Context, shopID int64, in Input) (Template, error) {
	if err := in.validate(); err != nil {
		return Template{}, err
	}
	now := db.Now()
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO freight_templates (shop_id, name, basis, rules, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, shopID, in.Name, in.Basis, in.body(), now, now).Scan(&id)
	if err != nil {
		return Template{}, errs.Wrap("create freight template", err)
	}
	return s.Get(ctx, shopID, id)
}

// Update replaces template id.
func (s *Service) Update(ctx context.Context, shopID, id int64, in Input) (Template, error) {
	if err := in.validate(); err != nil {
		return Template{}, err
	}
	// updated_at is the template's version for checkout's cache: it moves
	// forward on every change, even two in one millisecond.
	now := db.Now()
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE freight_templates SET name = ?, basis = ?, rules = ?,
		updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at + 1 END
		WHERE id = ? AND shop_id = ?`, in.Name, in.Basis, in.body(), now, now, id, shopID))
	if db.IsNoRows(err) {
		return Template{}, errNotFound
	}
	if err != nil {
		return Template{}, errs.Wrap("update freight template", err)
	}
	return s.Get(ctx, shopID, id)
}

// Delete removes template id, unless a product (on the shelf, off it or in
// the bin) points at it: 409 freight_template_in_use.
func (s *Service) Delete(ctx context.Context, shopID, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		// Lock the template first (a no-op update), so on PostgreSQL a
		// product cannot be pointed at it between the count and the delete
		// by a catalog save that checks it under the same lock.
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE freight_templates SET updated_at = updated_at WHERE id = ? AND shop_id = ?`, id, shopID)); err != nil {
			if db.IsNoRows(err) {
				return errNotFound
			}
			return err
		}
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM spus WHERE shop_id = ? AND freight_template_id = ?`, shopID, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.E(errs.Conflict, "freight_template_in_use", itoa(n)+" products use this template (the bin included): point them elsewhere first")
		}
		_, err := tx.Exec(ctx, `DELETE FROM freight_templates WHERE id = ? AND shop_id = ?`, id, shopID)
		if err != nil && strings.Contains(strings.ToLower(err.Error()), "foreign key") {
			// A product was pointed at it meanwhile (PostgreSQL).
			return errs.E(errs.Conflict, "freight_template_in_use", "a product uses this template: point it elsewhere first")
		}
		return err
	})
}

// Get returns template id of the shop.
func (s *Service) Get(ctx context.Context, shopID, id int64) (Template, error) {
	t, err := scanTemplate(s.db.QueryRow(ctx, `SELECT id, name, basis, rules, created_at, updated_at
		FROM freight_templates WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Template{}, errNotFound
	}
	return t, errs.Wrap("get freight template", err)
}

// List returns the shop's templates, newest first, after the id after (0 =
// from the newest), limit+1 of them for the page.
func (s *Service) List(ctx context.Context, shopID, after int64, limit int) ([]Template, error) {
	if after == 0 {
		after = 1 << 62
	}
	list, err := db.All(ctx, s.db, scanTemplate, `SELECT id, name, basis, rules, created_at, updated_at
		FROM freight_templates WHERE shop_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, shopID, after, limit+1)
	return list, errs.Wrap("list freight templates", err)
}

// Templates returns the shop's templates for checkout: versions maps each
// template id to the version (updated_at, Unix ms) the order's own query
// saw. A template cached at that version is used as is; the others are
// read through q (the order's transaction, when there is one) and cached.
// A template that no longer exists is left out. The returned templates are
// shared: read them only.
func (s *Service) Templates(ctx context.Context, q db.Querier, shopID int64, versions map[int64]int64) (map[int64]*Template, error) {
	out := make(map[int64]*Template, len(versions))
	var missing []int64
	s.mu.RLock()
	for id, v := range versions {
		if t, ok := s.cache[id]; ok && t.UpdatedAt.UnixMilli() == v && t.shopID == shopID {
			out[id] = t
		} else {
			missing = append(missing, id)
		}
	}
	s.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	args := []any{shopID}
	marks := make([]string, len(missing))
	for i, id := range missing {
		marks[i] = "?"
		args = append(args, id)
	}
	list, err := db.All(ctx, q, scanTemplate, `SELECT id, name, basis, rules, created_at, updated_at
		FROM freight_templates WHERE shop_id = ? AND id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, errs.Wrap("load freight templates", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range list {
		t := &list[i]
		t.shopID = shopID
		out[t.ID] = t
		if c, ok := s.cache[t.ID]; !ok || c.UpdatedAt.Before(t.UpdatedAt) {
			s.cache[t.ID] = t
		}
	}
	return out, nil
}

func scanTemplate(row db.Scanner) (Template, error) {
	var t Template
	var rules string
	var created, updated int64
	if err := row.Scan(&t.ID, &t.Name, &t.Basis, &rules, &created, &updated); err != nil {
		return Template{}, err
	}
	var b body
	if err := json.Unmarshal([]byte(rules), &b); err != nil {
		return Template{}, err
	}
	t.Default, t.Rules, t.Free, t.NoDelivery = b.Default, nonNil(b.Rules), nonNil(b.Free), nonNil(b.NoDelivery)
	t.CreatedAt, t.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return t, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
