package segment

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/member"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Rule selects members: every condition of All holds and, when Any is not
// empty, at least one of Any. An empty rule selects every member.
type Rule struct {
	All []Condition `json:"all"`
	Any []Condition `json:"any,omitempty" doc:"an optional OR group: at least one of these holds as well"`
}

// Condition is one test on a member.
type Condition struct {
	Field Field `json:"field"`
	Value any   `json:"value" doc:"an integer (fen, days, a tag or category id) or, for source_kind and source_ref, a string"`
}

// Field names what a condition tests.
type Field string

// The conditions a rule can use.
const (
	SpentAtLeast     Field = "spent_at_least"     // fen paid by paid orders, net of refunds, ≥ value
	SpentAtMost      Field = "spent_at_most"      // … ≤ value (members who never paid spent 0)
	BoughtCategory   Field = "bought_category"    // a paid, not refunded order has a line of the category or one below it
	InactiveDays     Field = "inactive_days"      // no login and no paid order for value days (and joined before)
	HasTag           Field = "has_tag"            // tagged with tag id value
	JoinedWithinDays Field = "joined_within_days" // joined in the last value days
	SourceKindIs     Field = "source_kind"        // the channel that brought them
	SourceRefIs      Field = "source_ref"         // … and what in that channel (a promoter id, a campaign)
	LevelIs          Field = "level"              // at member level value (a rank, 1 the lowest) or above
)

// EnumValues lists the fields for the API document.
func (Field) EnumValues() []string {
	return []string{string(SpentAtLeast), string(SpentAtMost), string(BoughtCategory), string(InactiveDays),
		string(HasTag), string(JoinedWithinDays), string(SourceKindIs), string(SourceRefIs), string(LevelIs)}
}

// MaxConditions bounds each group of a rule.
const MaxConditions = 20

const maxDays = 3650

func ruleErr(field, code, msg string) error { return errs.Field(field, code, msg) }

// normalize checks a rule's shape and values (not the ids: compile does)
// and turns its numbers into int64, so a saved rule reads back the same.
func normalize(r Rule) (Rule, error) {
	if len(r.All) > MaxConditions || len(r.Any) > MaxConditions {
		return Rule{}, ruleErr("rule", "rule_too_large", "at most 20 conditions in all and 20 in any")
	}
	out := Rule{All: make([]Condition, len(r.All)), Any: nil}
	for i, c := range r.All {
		n, err := normalizeCondition(c, "rule.all["+strconv.Itoa(i)+"]")
		if err != nil {
			return Rule{}, err
		}
		out.All[i] = n
	}
	for i, c := range r.Any {
		n, err := normalizeCondition(c, "rule.any["+strconv.Itoa(i)+"]")
		if err != nil {
			return Rule{}, err
		}
		out.Any = append(out.Any, n)
	}
	return out, nil
}

func normalizeCondition(c Condition, at string) (Condition, error) {
	switch c.Field {
	case SpentAtLeast, SpentAtMost:
		return intCondition(c, at, 0, 1e13, "fen, 0 to 10,000,000,000,000")
	case BoughtCategory, HasTag:
		return intCondition(c, at, 1, math.MaxInt64>>11, "an id")
	case InactiveDays, JoinedWithinDays:
		return intCondition(c, at, 1, maxDays, "days, 1 to 3650")
	case SourceKindIs:
		s, ok := c.Value.(string)
		if !ok || !member.SourceKind(s).Valid() {
			return Condition{}, ruleErr(at+".value", "invalid_condition_value", "must be share, promoter, poster, campaign, search or other")
		}
		return Condition{Field: c.Field, Value: s}, nil
	case SourceRefIs:
		s, ok := c.Value.(string)
		if !ok || s == "" || len(s) > 64 || !utf8.ValidString(s) {
			return Condition{}, ruleErr(at+".value", "invalid_condition_value", "must be a string of 1 to 64 characters")
		}
		return Condition{Field: c.Field, Value: s}, nil
	case LevelIs:
		return intCondition(c, at, 1, 20, "a level's rank, 1 to 20")
	}
	return Condition{}, ruleErr(at+".field", "unknown_condition", "unknown condition field")
}

// intCondition accepts a JSON number that is a whole number in [min, max].
func intCondition(c Condition, at string, min, max int64, what string) (Condition, error) {
	var n int64
	switch v := c.Value.(type) {
	case float64:
		if v != math.Trunc(v) || v < float64(min) || v > float64(max) {
			return Condition{}, ruleErr(at+".value", "invalid_condition_value", "must be "+what)
		}
		n = int64(v)
	case int64:
		n = v
	case int:
		n = int64(v)
	default:
		return Condition{}, ruleErr(at+".value", "invalid_condition_value", "must be a number: "+what)
	}
	if n < min || n > max {
		return Condition{}, ruleErr(at+".value", "invalid_condition_value", "must be "+what)
	}
	return Condition{Field: c.Field, Value: n}, nil
}

// sqlb builds a query with placeholders numbered for the engine; rules make
// many shapes of query, so they bypass the DB's statement and rebind caches.
type sqlb struct {
	pg   bool
	b    strings.Builder
	args []any
}

func (q *sqlb) sql(s string) *sqlb { q.b.WriteString(s); return q }

// arg writes one placeholder for v.
func (q *sqlb) arg(v any) *sqlb {
	q.args = append(q.args, v)
	if q.pg {
		q.b.WriteString("$" + strconv.Itoa(len(q.args)))
	} else {
		q.b.WriteString("?")
	}
	return q
}

func (q *sqlb) list(vs []int64) *sqlb {
	for i, v := range vs {
		if i > 0 {
			q.sql(", ")
		}
		q.arg(v)
	}
	return q
}

// compiler writes a rule's conditions over members aliased m, resolving
// tag and category ids within the shop (an id of another shop is unknown).
type compiler struct {
	q      *sqlb
	shopID int64
	now    time.Time
	db     *db.DB
	// saved rules were checked when saved: a tag or category deleted since
	// then selects nobody instead of failing the rule.
	saved bool
}

// where writes "(all) AND (any…)" for a normalized rule.
func (c *compiler) where(ctx context.Context, r Rule) error {
	c.q.sql("(TRUE")
	for i, cond := range r.All {
		c.q.sql(" AND ")
		if err := c.condition(ctx, cond, "rule.all["+strconv.Itoa(i)+"]"); err != nil {
			return err
		}
	}
	if len(r.Any) > 0 {
		c.q.sql(" AND (FALSE")
		for i, cond := range r.Any {
			c.q.sql(" OR ")
			if err := c.condition(ctx, cond, "rule.any["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		c.q.sql(")")
	}
	c.q.sql(")")
	return nil
}

const paidOrders = `SELECT o.member_id FROM orders o WHERE o.shop_id = `

func (c *compiler) condition(ctx context.Context, cond Condition, at string) error {
	q, shop := c.q, c.shopID
	switch cond.Field {
	case SpentAtLeast:
		if cond.Value.(int64) <= 0 { // everyone has spent at least nothing
			q.sql("TRUE")
			return nil
		}
		q.sql("m.id IN (" + paidOrders).arg(shop).sql(` AND o.paid_at IS NOT NULL GROUP BY o.member_id
			HAVING SUM(o.paid_amount - o.refunded_amount) >= `).arg(cond.Value).sql(")")
	case SpentAtMost:
		q.sql("m.id NOT IN (" + paidOrders).arg(shop).sql(` AND o.paid_at IS NOT NULL GROUP BY o.member_id
			HAVING SUM(o.paid_amount - o.refunded_amount) > `).arg(cond.Value).sql(")")
	case BoughtCategory:
		ids, err := c.categoryTree(ctx, cond.Value.(int64), at)
		if c.gone(err) {
			q.sql("FALSE")
			return nil
		}
		if err != nil {
			return err
		}
		// Order ids from the lines of the category's products (index only),
		// then the shop's paid orders' index: few row reads even when the
		// category is most of the shop. A fully refunded order does not count.
		q.sql("m.id IN (" + paidOrders).arg(shop).sql(` AND o.paid_at IS NOT NULL AND o.refunded_amount < o.paid_amount
			AND o.id IN (SELECT l.order_id FROM order_lines l WHERE l.spu_id IN (
				SELECT p.id FROM spus p WHERE p.shop_id = `).arg(shop).sql(" AND p.category_id IN (").list(ids).sql("))))")
	case InactiveDays:
		cut := c.now.AddDate(0, 0, -int(cond.Value.(int64))).UnixMilli()
		q.sql("(m.created_at < ").arg(cut).sql(" AND m.last_login_at < ").arg(cut).
			sql(" AND m.id NOT IN (" + paidOrders).arg(shop).sql(" AND o.paid_at >= ").arg(cut).sql("))")
	case HasTag:
		if err := c.tagExists(ctx, cond.Value.(int64), at); c.gone(err) {
			q.sql("FALSE")
			return nil
		} else if err != nil {
			return err
		}
		q.sql("m.id IN (SELECT l.member_id FROM member_tag_links l WHERE l.tag_id = ").arg(cond.Value).sql(")")
	case JoinedWithinDays:
		q.sql("m.created_at >= ").arg(c.now.AddDate(0, 0, -int(cond.Value.(int64))).UnixMilli())
	case SourceKindIs:
		q.sql("m.source_kind = ").arg(cond.Value)
	case SourceRefIs:
		q.sql("m.source_ref = ").arg(cond.Value)
	case LevelIs:
		q.sql("m.id IN (SELECT g.member_id FROM member_growth g WHERE g.shop_id = ").arg(shop).sql(" AND g.rank >= ").arg(cond.Value).sql(")")
	default: // normalize let nothing else through
		return ruleErr(at+".field", "unknown_condition", "unknown condition field")
	}
	return nil
}

// gone reports an id a saved rule names that no longer exists.
func (c *compiler) gone(err error) bool {
	return c.saved && (errs.Is(err, "unknown_tag") || errs.Is(err, "unknown_category"))
}

func (c *compiler) tagExists(ctx context.Context, id int64, at string) error {
	var one int
	err := c.db.QueryRow(ctx, `SELECT 1 FROM member_tags WHERE id = ? AND shop_id = ?`, id, c.shopID).Scan(&one)
	if db.IsNoRows(err) {
		return ruleErr(at+".value", "unknown_tag", "no such tag")
	}
	return errs.Wrap("segment tag", err)
}

// categoryTree is category id and every category below it, of the shop.
func (c *compiler) categoryTree(ctx context.Context, id int64, at string) ([]int64, error) {
	rows, err := c.db.Query(ctx, `SELECT id, COALESCE(parent_id, 0) FROM categories WHERE shop_id = ?`, c.shopID)
	if err != nil {
		return nil, errs.Wrap("segment categories", err)
	}
	defer rows.Close()
	children := map[int64][]int64{}
	found := false
	for rows.Next() {
		var cid, parent int64
		if err := rows.Scan(&cid, &parent); err != nil {
			return nil, errs.Wrap("segment categories", err)
		}
		children[parent] = append(children[parent], cid)
		found = found || cid == id
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap("segment categories", err)
	}
	if !found {
		return nil, ruleErr(at+".value", "unknown_category", "no such category")
	}
	ids, seen := []int64{id}, map[int64]bool{id: true}
	for i := 0; i < len(ids) && len(ids) <= 500; i++ {
		for _, ch := range children[ids[i]] {
			if !seen[ch] {
				seen[ch] = true
				ids = append(ids, ch)
			}
		}
	}
	return ids, nil
}
