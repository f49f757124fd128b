package content

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/richtext"
)

// Package bundles courses at one price.
type Package struct {
	ID        int64   `json:"id"`
	Title     string  `json:"title"`
	Intro     string  `json:"intro" doc:"sanitized HTML"`
	Cover     string  `json:"cover"`
	PriceFen  int64   `json:"price_fen"`
	Days      int     `json:"days" doc:"0: no end"`
	ForSale   bool    `json:"for_sale"`
	CourseIDs []int64 `json:"course_ids"`
	Release
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PackageInput creates or replaces a package.
type PackageInput struct {
	Title     string     `json:"title"`
	Intro     string     `json:"intro"`
	Cover     string     `json:"cover"`
	PriceFen  int64      `json:"price_fen"`
	Days      int        `json:"days"`
	ForSale   bool       `json:"for_sale"`
	CourseIDs []int64    `json:"course_ids" doc:"the courses it bundles (of this shop)"`
	Status    string     `json:"status" enum:"draft,published"`
	PublishAt *time.Time `json:"publish_at"`
}

func (in *PackageInput) check() error {
	var v errs.Validator
	checkTitle(&v, "title", in.Title)
	v.Check(len(in.Intro) <= MaxIntro, "intro", "at most 200000 bytes")
	v.Check(len(in.Cover) <= 2000, "cover", "at most 2000 bytes")
	checkPrice(&v, in.PriceFen, in.Days)
	v.Check(len(in.CourseIDs) >= 1 && len(in.CourseIDs) <= MaxCourses, "course_ids", "1 to 500 courses")
	checkRelease(&v, in.Status)
	return v.Err()
}

// Plan is a membership plan (会员).
type Plan struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Intro      string  `json:"intro" doc:"sanitized HTML"`
	Period     string  `json:"period" enum:"month,quarter,year,custom"`
	Days       int     `json:"days" doc:"30, 90, 365 or the custom length"`
	PriceFen   int64   `json:"price_fen"`
	CoversAll  bool    `json:"covers_all" doc:"every course of the shop; else course_ids"`
	CourseIDs  []int64 `json:"course_ids"`
	DiscountBP int     `json:"discount_bp" doc:"member discount in basis points off one-time course and package prices (1000 = 10% off)"`
	ForSale    bool    `json:"for_sale"`
	Members    int     `json:"members" doc:"members holding it now (counted from entitlements)"`
	Release
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PlanInput creates or replaces a plan.
type PlanInput struct {
	Name       string     `json:"name"`
	Intro      string     `json:"intro"`
	Period     string     `json:"period" enum:"month,quarter,year,custom"`
	Days       int        `json:"days" doc:"custom only: 1 to 3650 (the others are 30/90/365)"`
	PriceFen   int64      `json:"price_fen"`
	CoversAll  bool       `json:"covers_all"`
	CourseIDs  []int64    `json:"course_ids" doc:"the covered courses unless covers_all"`
	DiscountBP int        `json:"discount_bp" doc:"0 to 9900"`
	ForSale    bool       `json:"for_sale"`
	Status     string     `json:"status" enum:"draft,published"`
	PublishAt  *time.Time `json:"publish_at"`
}

var periodDays = map[string]int{"month": 30, "quarter": 90, "year": 365}

func (in *PlanInput) check() error {
	var v errs.Validator
	checkTitle(&v, "name", in.Name)
	v.Check(len(in.Intro) <= MaxIntro, "intro", "at most 200000 bytes")
	if d, ok := periodDays[in.Period]; ok {
		v.Check(in.Days == 0 || in.Days == d, "days", "set only for a custom period")
		in.Days = d
	} else {
		v.Check(in.Period == "custom", "period", "must be month, quarter, year or custom")
		v.Check(in.Days >= 1 && in.Days <= 3650, "days", "1 to 3650")
	}
	v.Check(in.PriceFen >= 0 && in.PriceFen <= MaxPriceFen, "price_fen", "0 to 100000000 fen")
	v.Check(in.DiscountBP >= 0 && in.DiscountBP <= 9900, "discount_bp", "0 to 9900")
	v.Check(len(in.CourseIDs) <= MaxCourses, "course_ids", "at most 500 courses")
	v.Check(!in.CoversAll || len(in.CourseIDs) == 0, "course_ids", "none when covers_all")
	v.Check(utf8.RuneCountInString(in.Name) <= MaxTitle, "name", "at most 100 characters")
	checkRelease(&v, in.Status)
	return v.Err()
}

// setCourses replaces the course links of a package or plan after
// checking every course is the shop's.
func setCourses(ctx context.Context, tx *db.Tx, table, col string, shopID, id int64, courseIDs []int64) error {
	seen := map[int64]bool{}
	for _, c := range courseIDs {
		if seen[c] {
			return errs.Field("course_ids", "invalid_course_ids", "each course once")
		}
		seen[c] = true
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM content_courses WHERE id = ? AND shop_id = ?`, c, shopID).Scan(&one)
		if db.IsNoRows(err) {
			return errCourseNotFound
		}
		if err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE shop_id = ? AND `+col+` = ?`, shopID, id); err != nil {
		return err
	}
	for _, c := range courseIDs {
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (shop_id, `+col+`, course_id) VALUES (?, ?, ?)`, shopID, id, c); err != nil {
			return err
		}
	}
	return nil
}

func courseIDs(ctx context.Context, q db.Querier, table, col string, shopID, id int64) ([]int64, error) {
	return db.All(ctx, q, func(r db.Scanner) (int64, error) {
		var c int64
		return c, r.Scan(&c)
	}, `SELECT course_id FROM `+table+` WHERE shop_id = ? AND `+col+` = ? ORDER BY course_id`, shopID, id)
}

// SavePackage creates (id 0) or replaces a package.
func (s *Service) SavePackage(ctx context.Context, shopID, id int64, in PackageInput) (Package, error) {
	if err := in.check(); err != nil {
		return Package{}, err
	}
	err := s.edit(ctx, shopID, func(tx *db.Tx) error {
		now := ms(s.now())
		args := []any{strings.TrimSpace(in.Title), richtext.Sanitize(in.Intro), in.Cover, in.PriceFen, in.Days, in.ForSale, in.Status, publishMS(in.PublishAt), now}
		var err error
		if id == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO content_packages (title, intro, cover, price_fen, days, for_sale, status, publish_at, updated_at, shop_id, created_at, sort)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort), 0) + 1 FROM content_packages WHERE shop_id = ?)) RETURNING id`,
				append(args, shopID, now, shopID)...).Scan(&id)
		} else {
			err = db.ExpectOne(tx.Exec(ctx, `UPDATE content_packages SET title = ?, intro = ?, cover = ?, price_fen = ?, days = ?, for_sale = ?, status = ?,
				publish_at = ?, updated_at = ? WHERE id = ? AND shop_id = ?`, append(args, id, shopID)...))
			if db.IsNoRows(err) {
				return errPackageNotFound
			}
		}
		if err != nil {
			return err
		}
		return setCourses(ctx, tx, "content_package_courses", "package_id", shopID, id, in.CourseIDs)
	})
	if err != nil {
		return Package{}, errs.Wrap("save package", err)
	}
	return s.Package(ctx, shopID, id)
}

const packageCols = `id, title, intro, cover, price_fen, days, for_sale, status, publish_at, sort, created_at, updated_at`

func scanPackage(r db.Scanner) (Package, error) {
	var p Package
	var status string
	var pub, created, updated int64
	var sort int
	err := r.Scan(&p.ID, &p.Title, &p.Intro, &p.Cover, &p.PriceFen, &p.Days, &p.ForSale, &status, &pub, &sort, &created, &updated)
	p.Release, p.CreatedAt, p.UpdatedAt = pubOut(status, pub, sort), fromMS(created), fromMS(updated)
	return p, err
}

// Package is one package for staff.
func (s *Service) Package(ctx context.Context, shopID, id int64) (Package, error) {
	p, err := scanPackage(s.db.QueryRow(ctx, `SELECT `+packageCols+` FROM content_packages WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Package{}, errPackageNotFound
	}
	if err != nil {
		return Package{}, errs.Wrap("package", err)
	}
	p.CourseIDs, err = courseIDs(ctx, s.db, "content_package_courses", "package_id", shopID, id)
	return p, errs.Wrap("package courses", err)
}

// Packages lists the shop's packages in order.
func (s *Service) Packages(ctx context.Context, shopID int64, after []int64, limit int) ([]Package, error) {
	return s.packages(ctx, shopID, 0, after, limit)
}

// packages lists packages in order; released at a time (ms) > 0: only
// those buyers see then.
func (s *Service) packages(ctx context.Context, shopID, releasedAt int64, after []int64, limit int) ([]Package, error) {
	list, err := db.All(ctx, s.db, scanPackage, `SELECT `+packageCols+` FROM content_packages WHERE shop_id = ? AND (sort > ? OR (sort = ? AND id > ?))
		AND (CAST(? AS BIGINT) = 0 OR (status = 'published' AND publish_at <= ?)) ORDER BY sort, id LIMIT ?`, shopID, after[0], after[0], after[1], releasedAt, releasedAt, limit+1)
	for i := range list {
		if err == nil {
			list[i].CourseIDs, err = courseIDs(ctx, s.db, "content_package_courses", "package_id", shopID, list[i].ID)
		}
	}
	return list, errs.Wrap("packages", err)
}

// SavePlan creates (id 0) or replaces a membership plan.
func (s *Service) SavePlan(ctx context.Context, shopID, id int64, in PlanInput) (Plan, error) {
	if err := in.check(); err != nil {
		return Plan{}, err
	}
	err := s.edit(ctx, shopID, func(tx *db.Tx) error {
		now := ms(s.now())
		args := []any{strings.TrimSpace(in.Name), richtext.Sanitize(in.Intro), in.Period, in.Days, in.PriceFen, in.CoversAll, in.DiscountBP,
			in.ForSale, in.Status, publishMS(in.PublishAt), now}
		var err error
		if id == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO content_plans (name, intro, period, days, price_fen, covers_all, discount_bp, for_sale, status, publish_at, updated_at,
				shop_id, created_at, sort) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort), 0) + 1 FROM content_plans WHERE shop_id = ?)) RETURNING id`,
				append(args, shopID, now, shopID)...).Scan(&id)
		} else {
			err = db.ExpectOne(tx.Exec(ctx, `UPDATE content_plans SET name = ?, intro = ?, period = ?, days = ?, price_fen = ?, covers_all = ?, discount_bp = ?,
				for_sale = ?, status = ?, publish_at = ?, updated_at = ? WHERE id = ? AND shop_id = ?`, append(args, id, shopID)...))
			if db.IsNoRows(err) {
				return errPlanNotFound
			}
		}
		if err != nil {
			return err
		}
		return setCourses(ctx, tx, "content_plan_courses", "plan_id", shopID, id, in.CourseIDs)
	})
	if err != nil {
		return Plan{}, errs.Wrap("save plan", err)
	}
	return s.Plan(ctx, shopID, id)
}

const planCols = `id, name, intro, period, days, price_fen, covers_all, discount_bp, for_sale, status, publish_at, sort, created_at, updated_at`

func scanPlan(r db.Scanner) (Plan, error) {
	var p Plan
	var status string
	var pub, created, updated int64
	var sort int
	err := r.Scan(&p.ID, &p.Name, &p.Intro, &p.Period, &p.Days, &p.PriceFen, &p.CoversAll, &p.DiscountBP, &p.ForSale, &status, &pub, &sort, &created, &updated)
	p.Release, p.CreatedAt, p.UpdatedAt = pubOut(status, pub, sort), fromMS(created), fromMS(updated)
	return p, err
}

// Plan is one plan for staff, with the count of its members now.
func (s *Service) Plan(ctx context.Context, shopID, id int64) (Plan, error) {
	p, err := scanPlan(s.db.QueryRow(ctx, `SELECT `+planCols+` FROM content_plans WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Plan{}, errPlanNotFound
	}
	if err != nil {
		return Plan{}, errs.Wrap("plan", err)
	}
	return p, s.planDetails(ctx, shopID, &p)
}

func (s *Service) planDetails(ctx context.Context, shopID int64, p *Plan) error {
	var err error
	if p.CourseIDs, err = courseIDs(ctx, s.db, "content_plan_courses", "plan_id", shopID, p.ID); err != nil {
		return errs.Wrap("plan courses", err)
	}
	now := ms(s.now())
	err = s.db.QueryRow(ctx, `SELECT COUNT(DISTINCT member_id) FROM content_entitlements WHERE shop_id = ? AND target_kind = 'plan' AND target_id = ?
		AND revoked_at IS NULL AND starts_at <= ? AND (ends_at IS NULL OR ends_at > ?)`, shopID, p.ID, now, now).Scan(&p.Members)
	return errs.Wrap("plan members", err)
}

// Plans lists the shop's plans in order.
func (s *Service) Plans(ctx context.Context, shopID int64, after []int64, limit int) ([]Plan, error) {
	return s.plans(ctx, shopID, 0, after, limit)
}

// plans lists plans in order, like packages.
func (s *Service) plans(ctx context.Context, shopID, releasedAt int64, after []int64, limit int) ([]Plan, error) {
	list, err := db.All(ctx, s.db, scanPlan, `SELECT `+planCols+` FROM content_plans WHERE shop_id = ? AND (sort > ? OR (sort = ? AND id > ?))
		AND (CAST(? AS BIGINT) = 0 OR (status = 'published' AND publish_at <= ?)) ORDER BY sort, id LIMIT ?`, shopID, after[0], after[0], after[1], releasedAt, releasedAt, limit+1)
	for i := range list {
		if err == nil {
			err = s.planDetails(ctx, shopID, &list[i])
		}
	}
	return list, errs.Wrap("plans", err)
}
