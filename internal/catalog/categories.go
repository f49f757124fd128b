package catalog

import (
	"context"
	"sort"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// MaxCategoryDepth bounds the tree (top level = 1).
const MaxCategoryDepth = 3

// CategoryInput creates a category or changes one (nil = unchanged).
type CategoryInput struct {
	ParentID       *int64  `json:"parent_id,omitempty" doc:"0 moves it to the top level"`
	Name           *string `json:"name,omitempty"`
	Sort           *int64  `json:"sort,omitempty"`
	NeedsBrandAuth *bool   `json:"needs_brand_auth,omitempty" doc:"operators only"`
}

// flatCategories returns shopID's categories in one list.
func (s *Service) flatCategories(ctx context.Context, q db.Querier, shopID int64) ([]Category, error) {
	rows, err := q.Query(ctx, `SELECT id, COALESCE(parent_id, 0), name, sort, needs_brand_auth
		FROM categories WHERE shop_id = ?`, shopID)
	if err != nil {
		return nil, errs.Wrap("list categories", err)
	}
	defer rows.Close()
	var out []Category
	for rows.Next() {
		var c Category
		if err := rows.Scan(&c.ID, &c.ParentID, &c.Name, &c.Sort, &c.NeedsBrandAuth); err != nil {
			return nil, errs.Wrap("list categories", err)
		}
		out = append(out, c)
	}
	return out, errs.Wrap("list categories", rows.Err())
}

// CategoryTree returns shopID's categories as a tree, sorted by sort (higher
// first) then id.
func (s *Service) CategoryTree(ctx context.Context, shopID int64) ([]Category, error) {
	flat, err := s.flatCategories(ctx, s.db, shopID)
	if err != nil {
		return nil, err
	}
	return buildTree(flat, 0), nil
}

func buildTree(flat []Category, parent int64) []Category {
	out := []Category{}
	for _, c := range flat {
		if c.ParentID == parent {
			c.Children = buildTree(flat, c.ID)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sort != out[j].Sort {
			return out[i].Sort > out[j].Sort
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// descendants returns id and every category below it.
func descendants(flat []Category, id int64) []int64 {
	out := []int64{id}
	for i := 0; i < len(out); i++ {
		for _, c := range flat {
			if c.ParentID == out[i] {
				out = append(out, c.ID)
			}
		}
	}
	return out
}

// depth returns how deep id sits (1 = top level), 0 when it is not in flat.
func depth(flat []Category, id int64) int {
	byID := map[int64]Category{}
	for _, c := range flat {
		byID[c.ID] = c
	}
	d := 0
	for c, ok := byID[id]; ok && d <= len(flat); c, ok = byID[c.ParentID] {
		d++
	}
	return d
}

// height returns how many levels id and its subtree span (1 = no children);
// a category not created yet (id 0) has none.
func height(flat []Category, id int64) int {
	if id == 0 {
		return 1
	}
	h := 0
	for _, c := range flat {
		if c.ParentID == id {
			h = max(h, height(flat, c.ID))
		}
	}
	return h + 1
}

func findCategory(flat []Category, id int64) (Category, bool) {
	for _, c := range flat {
		if c.ID == id {
			return c, true
		}
	}
	return Category{}, false
}

var errCategoryNotFound = errs.E(errs.NotFound, "category_not_found", "no such category")

// CreateCategory adds a category to shopID. Only operators may set
// NeedsBrandAuth (operator = true).
func (s *Service) CreateCategory(ctx context.Context, shopID int64, in CategoryInput, operator bool) (Category, error) {
	c := Category{}
	if in.Name == nil {
		return Category{}, errs.Field("name", "required", "name is required")
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		flat, err := s.flatCategories(ctx, tx, shopID)
		if err != nil {
			return err
		}
		if err := applyCategory(&c, in, flat, operator); err != nil {
			return err
		}
		now := db.Now()
		return tx.QueryRow(ctx, `INSERT INTO categories (shop_id, parent_id, name, sort, needs_brand_auth, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, nullID(c.ParentID), c.Name, c.Sort, c.NeedsBrandAuth, now, now).Scan(&id)
	})
	if err != nil {
		return Category{}, errs.Wrap("create category", err)
	}
	c.ID = id
	s.view.forgetCategories(shopID)
	return c, nil
}

// UpdateCategory changes category id of shopID.
func (s *Service) UpdateCategory(ctx context.Context, shopID, id int64, in CategoryInput, operator bool) (Category, error) {
	var c Category
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		flat, err := s.flatCategories(ctx, tx, shopID)
		if err != nil {
			return err
		}
		var ok bool
		if c, ok = findCategory(flat, id); !ok {
			return errCategoryNotFound
		}
		if in.ParentID != nil && *in.ParentID != 0 {
			for _, d := range descendants(flat, id) {
				if d == *in.ParentID {
					return errs.Field("parent_id", "category_cycle", "a category cannot move under itself or its children")
				}
			}
		}
		if err := applyCategory(&c, in, flat, operator); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE categories SET parent_id = ?, name = ?, sort = ?, needs_brand_auth = ?, updated_at = ?
			WHERE id = ? AND shop_id = ?`, nullID(c.ParentID), c.Name, c.Sort, c.NeedsBrandAuth, db.Now(), id, shopID)
		return err
	})
	if err != nil {
		return Category{}, errs.Wrap("update category", err)
	}
	s.view.forgetCategories(shopID)
	return c, nil
}

// applyCategory validates in against the tree and applies it to c.
func applyCategory(c *Category, in CategoryInput, flat []Category, operator bool) error {
	var v errs.Validator
	if in.Name != nil {
		c.Name = strings.TrimSpace(*in.Name)
	}
	v.Check(runes(c.Name) >= 1 && runes(c.Name) <= 30, "name", "must be 1 to 30 characters")
	if in.Sort != nil {
		c.Sort = *in.Sort
	}
	v.Check(c.Sort >= -1_000_000 && c.Sort <= 1_000_000, "sort", "must be between -1,000,000 and 1,000,000")
	if in.ParentID != nil {
		c.ParentID = *in.ParentID
		_, found := findCategory(flat, c.ParentID)
		v.Check(c.ParentID == 0 || found, "parent_id", "must be 0 or a category of this shop")
		v.Check(c.ParentID == 0 || depth(flat, c.ParentID)+height(flat, c.ID) <= MaxCategoryDepth, "parent_id", "categories nest at most 3 levels")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if in.NeedsBrandAuth != nil && *in.NeedsBrandAuth != c.NeedsBrandAuth {
		if !operator {
			return errs.E(errs.Forbidden, "operator_only", "only operators set whether a category needs a brand authorization")
		}
		c.NeedsBrandAuth = *in.NeedsBrandAuth
	}
	return nil
}

// DeleteCategory removes an empty category: no children, no products.
func (s *Service) DeleteCategory(ctx context.Context, shopID, id int64) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var children, products int
		err := tx.QueryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM categories WHERE parent_id = ? AND shop_id = ?),
			(SELECT COUNT(*) FROM spus WHERE category_id = ? AND shop_id = ?)`, id, shopID, id, shopID).Scan(&children, &products)
		if err != nil {
			return err
		}
		if children > 0 || products > 0 {
			return errs.E(errs.Conflict, "category_not_empty", "move its subcategories and products (deleted ones too) first")
		}
		return db.ExpectOne(tx.Exec(ctx, `DELETE FROM categories WHERE id = ? AND shop_id = ?`, id, shopID))
	})
	if db.IsNoRows(err) {
		return errCategoryNotFound
	}
	s.view.forgetCategories(shopID)
	return errs.Wrap("delete category", err)
}

// categoryIDs returns id and its descendants in shopID, or NotFound.
func (s *Service) categoryIDs(ctx context.Context, shopID, id int64) ([]int64, error) {
	flat, err := s.view.categories(ctx, shopID, func() ([]Category, error) { return s.flatCategories(ctx, s.db, shopID) })
	if err != nil {
		return nil, err
	}
	if _, ok := findCategory(flat, id); !ok {
		return nil, errCategoryNotFound
	}
	return descendants(flat, id), nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
