// Package segment keeps member tags (set by staff) and segments (saved
// rules over members, evaluated in SQL on both engines), the members
// search of the console and the member detail's order list. It reads the
// members, orders, order lines and categories tables, scoped by shop, and
// sits above member and order.
package segment

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/member"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Service keeps tags and segments.
type Service struct {
	db  *db.DB
	now func() time.Time
}

// NewService returns the segment service.
func NewService(d *db.DB) *Service { return &Service{db: d, now: time.Now} }

// Segment is a saved rule.
type Segment struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Rule        Rule      `json:"rule"`
	MemberCount *int64    `json:"member_count,omitempty" doc:"counted now; only on a single segment"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// SegmentInput is a segment as staff write it.
type SegmentInput struct {
	Name string `json:"name" doc:"1 to 40 characters, unique in the shop"`
	Rule Rule   `json:"rule"`
}

// MaxSegments bounds a shop's saved segments.
const MaxSegments = 100

var (
	errSegmentNotFound  = errs.E(errs.NotFound, "segment_not_found", "no such segment")
	errSegmentDuplicate = errs.Field("name", "segment_exists", "the shop already has a segment of that name")
)

// prepare checks a segment and every id its rule names, and encodes the rule.
func (s *Service) prepare(ctx context.Context, shopID int64, in *SegmentInput) (string, error) {
	in.Name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(in.Name); n < 1 || n > 40 {
		return "", errs.Field("name", "invalid_name", "1 to 40 characters")
	}
	r, err := normalize(in.Rule)
	if err != nil {
		return "", err
	}
	if _, err := s.compile(ctx, shopID, r); err != nil {
		return "", err
	}
	in.Rule = r
	b, err := json.Marshal(r)
	return string(b), err
}

// CreateSegment saves a segment.
func (s *Service) CreateSegment(ctx context.Context, shopID int64, in SegmentInput) (Segment, error) {
	rule, err := s.prepare(ctx, shopID, &in)
	if err != nil {
		return Segment{}, err
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM segments WHERE shop_id = ?`, shopID).Scan(&n); err != nil {
		return Segment{}, errs.Wrap("create segment", err)
	}
	if n >= MaxSegments {
		return Segment{}, errs.E(errs.Conflict, "too_many_segments", "a shop has at most 100 segments")
	}
	now := db.Now()
	var id int64
	err = s.db.QueryRow(ctx, `INSERT INTO segments (shop_id, name, rule, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		shopID, in.Name, rule, now, now).Scan(&id)
	if db.IsUniqueViolation(err) {
		return Segment{}, errSegmentDuplicate
	}
	if err != nil {
		return Segment{}, errs.Wrap("create segment", err)
	}
	return s.Segment(ctx, shopID, id)
}

// UpdateSegment replaces a segment's name and rule.
func (s *Service) UpdateSegment(ctx context.Context, shopID, id int64, in SegmentInput) (Segment, error) {
	rule, err := s.prepare(ctx, shopID, &in)
	if err != nil {
		return Segment{}, err
	}
	err = db.ExpectOne(s.db.Exec(ctx, `UPDATE segments SET name = ?, rule = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
		in.Name, rule, db.Now(), id, shopID))
	switch {
	case db.IsUniqueViolation(err):
		return Segment{}, errSegmentDuplicate
	case db.IsNoRows(err):
		return Segment{}, errSegmentNotFound
	case err != nil:
		return Segment{}, errs.Wrap("update segment", err)
	}
	return s.Segment(ctx, shopID, id)
}

// DeleteSegment removes a segment.
func (s *Service) DeleteSegment(ctx context.Context, shopID, id int64) error {
	err := db.ExpectOne(s.db.Exec(ctx, `DELETE FROM segments WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return errSegmentNotFound
	}
	return errs.Wrap("delete segment", err)
}

func scanSegment(row db.Scanner) (Segment, error) {
	var g Segment
	var rule string
	var created, updated int64
	if err := row.Scan(&g.ID, &g.Name, &rule, &created, &updated); err != nil {
		return Segment{}, err
	}
	g.CreatedAt, g.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if err := json.Unmarshal([]byte(rule), &g.Rule); err != nil {
		return Segment{}, err
	}
	var err error
	g.Rule, err = normalize(g.Rule) // numbers back to int64
	if g.Rule.All == nil {
		g.Rule.All = []Condition{}
	}
	return g, err
}

// Segment returns segment id with its member count, counted now.
func (s *Service) Segment(ctx context.Context, shopID, id int64) (Segment, error) {
	g, err := s.segment(ctx, shopID, id)
	if err != nil {
		return Segment{}, err
	}
	n, err := s.count(ctx, shopID, g.Rule, true)
	if err != nil {
		return Segment{}, err
	}
	g.MemberCount = &n
	return g, nil
}

func (s *Service) segment(ctx context.Context, shopID, id int64) (Segment, error) {
	g, err := scanSegment(s.db.QueryRow(ctx, `SELECT id, name, rule, created_at, updated_at FROM segments WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Segment{}, errSegmentNotFound
	}
	return g, errs.Wrap("segment", err)
}

// Segments lists shopID's segments by name (without counts: ask each one).
func (s *Service) Segments(ctx context.Context, shopID int64) ([]Segment, error) {
	list, err := db.All(ctx, s.db, scanSegment, `SELECT id, name, rule, created_at, updated_at FROM segments WHERE shop_id = ? ORDER BY name, id`, shopID)
	if list == nil {
		list = []Segment{}
	}
	return list, errs.Wrap("segments", err)
}

// compile writes the WHERE clause (over members m) of a normalized rule.
func (s *Service) compile(ctx context.Context, shopID int64, r Rule) (*sqlb, error) {
	return s.compileWith(ctx, shopID, r, false)
}

// compileWith compiles a rule; saved is true for a rule already checked
// when it was saved (see compiler.saved).
func (s *Service) compileWith(ctx context.Context, shopID int64, r Rule, saved bool) (*sqlb, error) {
	q := &sqlb{pg: s.db.Engine == db.Postgres}
	q.sql("m.shop_id = ").arg(shopID).sql(" AND ")
	c := compiler{q: q, shopID: shopID, now: s.now(), db: s.db, saved: saved}
	return q, c.where(ctx, r)
}

// count counts the members r selects.
func (s *Service) count(ctx context.Context, shopID int64, r Rule, saved bool) (int64, error) {
	where, err := s.compileWith(ctx, shopID, r, saved)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM members m WHERE `+where.b.String(), where.args...).Scan(&n)
	return n, errs.Wrap("count segment", err)
}

// Preview is a rule's live count and first members.
type Preview struct {
	Count   int64                `json:"count"`
	Members []member.StaffMember `json:"members" doc:"the newest members it selects, at most 20"`
}

// PreviewRule counts what a rule selects and shows the newest members.
func (s *Service) PreviewRule(ctx context.Context, shopID int64, r Rule) (Preview, error) {
	r, err := normalize(r)
	if err != nil {
		return Preview{}, err
	}
	n, err := s.count(ctx, shopID, r, false)
	if err != nil {
		return Preview{}, err
	}
	page, err := s.members(ctx, shopID, r, false, Filter{}, 0, 20)
	return Preview{Count: n, Members: page.Items}, err
}

// Page is a page of members, newest first.
type Page struct {
	Items []member.StaffMember
	Next  int64
}

// Filter narrows a members search.
type Filter struct {
	Phone     string // the whole number, or its last 4 digits
	Nickname  string // a part of it
	TagID     int64
	SegmentID int64
}

// Members pages through the members of a saved segment, newest first.
func (s *Service) Members(ctx context.Context, shopID, segmentID, after int64, limit int) (Page, error) {
	return s.Search(ctx, shopID, Filter{SegmentID: segmentID}, after, limit)
}

// Search pages through shopID's members that match f, newest first.
func (s *Service) Search(ctx context.Context, shopID int64, f Filter, after int64, limit int) (Page, error) {
	var r Rule
	saved := f.SegmentID != 0
	if saved {
		g, err := s.segment(ctx, shopID, f.SegmentID)
		if err != nil {
			return Page{}, err
		}
		r = g.Rule
	}
	if f.TagID != 0 {
		if err := tagInShop(ctx, s.db, shopID, f.TagID); err != nil {
			return Page{}, err
		}
		r.All = append(append([]Condition(nil), r.All...), Condition{Field: HasTag, Value: f.TagID})
	}
	return s.members(ctx, shopID, r, saved, f, after, limit)
}

func (s *Service) members(ctx context.Context, shopID int64, r Rule, saved bool, f Filter, after int64, limit int) (Page, error) {
	q, err := s.compileWith(ctx, shopID, r, saved)
	if err != nil {
		return Page{}, err
	}
	if err := searchClauses(q, f); err != nil {
		return Page{}, err
	}
	if after <= 0 {
		after = 1 << 62
	}
	q.sql(" AND m.id < ").arg(after).sql(" ORDER BY m.id DESC LIMIT ").arg(limit + 1)
	rows, err := s.db.QueryContext(ctx, `SELECT `+member.StaffColumns+` FROM members m WHERE `+q.b.String(), q.args...)
	if err != nil {
		return Page{}, errs.Wrap("segment members", err)
	}
	items, err := scanMembers(rows)
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.Next = items[limit-1].ID
	}
	return page, nil
}

func scanMembers(rows *sql.Rows) ([]member.StaffMember, error) {
	defer rows.Close()
	items := []member.StaffMember{}
	for rows.Next() {
		m, err := member.ScanStaff(rows)
		if err != nil {
			return nil, errs.Wrap("segment members", err)
		}
		items = append(items, m)
	}
	return items, errs.Wrap("segment members", rows.Err())
}

// searchClauses adds the phone and nickname tests of f.
func searchClauses(q *sqlb, f Filter) error {
	if f.Phone != "" {
		if !digits(f.Phone) || len(f.Phone) != 4 && (len(f.Phone) < 5 || len(f.Phone) > 20) {
			return errs.Field("phone", "invalid_phone", "the whole phone number, or its last 4 digits")
		}
		if len(f.Phone) == 4 {
			q.sql(" AND m.phone LIKE ").arg("%" + f.Phone)
		} else {
			q.sql(" AND m.phone = ").arg(f.Phone)
		}
	}
	if f.Nickname != "" {
		if utf8.RuneCountInString(f.Nickname) > 40 {
			return errs.Field("nickname", "invalid_nickname", "at most 40 characters")
		}
		q.sql(` AND LOWER(m.nickname) LIKE `).arg("%" + escapeLike(strings.ToLower(f.Nickname)) + "%").sql(` ESCAPE '\'`)
	}
	return nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// MemberIDs pages through the ids of a saved segment's members in
// ascending order, after afterID (0 for the first page), at most limit:
// the messaging room iterates a segment with it.
func (s *Service) MemberIDs(ctx context.Context, shopID, segmentID, afterID int64, limit int) ([]int64, error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	g, err := s.segment(ctx, shopID, segmentID)
	if err != nil {
		return nil, err
	}
	q, err := s.compileWith(ctx, shopID, g.Rule, true)
	if err != nil {
		return nil, err
	}
	q.sql(" AND m.id > ").arg(afterID).sql(" ORDER BY m.id LIMIT ").arg(limit)
	rows, err := s.db.QueryContext(ctx, `SELECT m.id FROM members m WHERE `+q.b.String(), q.args...)
	if err != nil {
		return nil, errs.Wrap("segment member ids", err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, errs.Wrap("segment member ids", err)
		}
		ids = append(ids, id)
	}
	return ids, errs.Wrap("segment member ids", rows.Err())
}
