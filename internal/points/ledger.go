package points

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Entry kinds.
const (
	KindEarn     = "earn"     // goods paid, when the order completes
	KindSpend    = "spend"    // paid at checkout
	KindReturn   = "return"   // an order's spent points given back (cancel, refund)
	KindClawback = "clawback" // earned points taken back after a refund
	KindExpire   = "expire"
	KindAdjust   = "adjust" // by staff, with a reason
	KindReward   = "reward" // check-in, tasks, badges
)

// MaxPoints bounds one entry (and what one request may name).
const MaxPoints = 1_000_000_000

// Entry is one line of a member's ledger.
type Entry struct {
	ID         int64      `json:"id"`
	Delta      int64      `json:"delta" doc:"points added (positive) or taken (negative)"`
	Kind       string     `json:"kind" enum:"earn,spend,return,clawback,expire,adjust,reward"`
	Reason     string     `json:"reason"`
	SourceType string     `json:"source_type" doc:"order, checkin, staff …"`
	SourceID   string     `json:"source_id"`
	Remaining  int64      `json:"remaining" doc:"of a lot (an entry that added points): what is left of it"`
	ExpiresAt  *time.Time `json:"expires_at" doc:"of a lot: when what is left of it expires (null: never)"`
	ActorID    int64      `json:"actor_id,omitempty" doc:"the staff member of an adjustment"`
	CreatedAt  time.Time  `json:"created_at"`
}

// change is one entry to write.
type change struct {
	shopID, memberID int64
	points           int64 // > 0; the sign comes from add/take
	kind, reason     string
	sourceType       string
	sourceID         string
	key              string
	expiresAt        *time.Time
	actorID          int64
}

var errInsufficient = errs.E(errs.Conflict, "insufficient_points", "not enough points")

// insertEntry writes the entry unless its key was used: applied = false
// then (the change happened before). ON CONFLICT keeps a PostgreSQL
// transaction usable, where a unique violation would abort it.
func insertEntry(ctx context.Context, tx *db.Tx, c change, delta, remaining int64, now int64) (id int64, applied bool, err error) {
	var expires any
	if c.expiresAt != nil {
		expires = c.expiresAt.UnixMilli()
	}
	var actor any
	if c.actorID != 0 {
		actor = c.actorID
	}
	err = tx.QueryRow(ctx, `INSERT INTO points_entries (shop_id, member_id, delta, kind, reason, source_type, source_id, idem_key,
		remaining, expires_at, actor_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, idem_key) DO NOTHING RETURNING id`,
		c.shopID, c.memberID, delta, c.kind, c.reason, c.sourceType, c.sourceID, c.key, remaining, expires, actor, now).Scan(&id)
	if db.IsNoRows(err) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// add credits a new lot of c.points (expiring at c.expiresAt).
func add(ctx context.Context, tx *db.Tx, c change, now int64) (applied bool, err error) {
	_, applied, err = insertEntry(ctx, tx, c, c.points, c.points, now)
	if err != nil || !applied {
		return applied, err
	}
	earned := int64(0)
	if c.kind == KindEarn || c.kind == KindReward || c.kind == KindAdjust {
		earned = c.points
	}
	_, err = tx.Exec(ctx, `INSERT INTO points_accounts (shop_id, member_id, balance, earned, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, member_id) DO UPDATE SET balance = points_accounts.balance + excluded.balance,
			earned = points_accounts.earned + excluded.earned, updated_at = excluded.updated_at`,
		c.shopID, c.memberID, c.points, earned, now)
	return true, err
}

// take debits c.points from the member's lots, those expiring first, by a
// compare-and-set on the balance (refused with insufficient_points). The
// account row is updated first: on PostgreSQL that locks it, so the lots
// read next cannot be taken by a concurrent spend. Lots past their expiry
// are expired first, so they are never spent. It returns the entry's id.
func take(ctx context.Context, tx *db.Tx, c change, now int64) (id int64, applied bool, err error) {
	if err := expireDue(ctx, tx, c.shopID, []int64{c.memberID}, now); err != nil {
		return 0, false, err
	}
	id, applied, err = insertEntry(ctx, tx, c, -c.points, 0, now)
	if err != nil || !applied {
		return id, applied, err
	}
	spent := int64(0)
	if c.kind == KindSpend {
		spent = c.points
	}
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE points_accounts SET balance = balance - ?, spent = spent + ?, updated_at = ?
		WHERE shop_id = ? AND member_id = ? AND balance >= ?`, c.points, spent, now, c.shopID, c.memberID, c.points))
	if db.IsNoRows(err) {
		return 0, false, errInsufficient
	}
	if err != nil {
		return 0, false, err
	}
	return id, true, takeLots(ctx, tx, c.shopID, c.memberID, id, c.points)
}

// takeLots takes n points from the member's live lots, soonest expiry
// first (never-expiring last), recording which lots gave how much.
func takeLots(ctx context.Context, tx *db.Tx, shopID, memberID, spendID, n int64) error {
	rows, err := tx.Query(ctx, `SELECT id, remaining FROM points_entries WHERE shop_id = ? AND member_id = ? AND remaining > 0
		ORDER BY CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at, id`, shopID, memberID)
	if err != nil {
		return err
	}
	type lot struct{ id, take int64 }
	var lots []lot
	left := n
	for rows.Next() && left > 0 {
		var l lot
		var remaining int64
		if err := rows.Scan(&l.id, &remaining); err != nil {
			rows.Close()
			return err
		}
		l.take = min(remaining, left)
		left -= l.take
		lots = append(lots, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if left > 0 {
		return fmt.Errorf("points: member %d's lots hold %d points less than the balance", memberID, left)
	}
	for _, l := range lots {
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE points_entries SET remaining = remaining - ? WHERE id = ? AND shop_id = ? AND remaining >= ?`,
			l.take, l.id, shopID, l.take)); err != nil {
			return fmt.Errorf("points: lot %d changed under a locked account: %w", l.id, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO points_lot_uses (shop_id, spend_id, lot_id, amount) VALUES (?, ?, ?, ?)`,
			shopID, spendID, l.id, l.take); err != nil {
			return err
		}
	}
	return nil
}

// giveBack returns up to n of a spend's points to the lots they came from
// (the latest-expiring first), as a return entry; lots that have expired
// meanwhile expire again at once, with their own entry. It returns how
// many came back (less than n only when the spend had less left).
func giveBack(ctx context.Context, tx *db.Tx, c change, spendID int64, now int64) (int64, error) {
	if err := lockAccount(ctx, tx, c.shopID, c.memberID, now); err != nil {
		return 0, err
	}
	id, applied, err := insertEntry(ctx, tx, c, c.points, 0, now)
	if err != nil || !applied {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT u.lot_id, u.amount - u.returned FROM points_lot_uses u JOIN points_entries e ON e.id = u.lot_id
		WHERE u.spend_id = ? AND u.shop_id = ? AND u.amount > u.returned
		ORDER BY CASE WHEN e.expires_at IS NULL THEN 0 ELSE 1 END, e.expires_at DESC, u.lot_id DESC`, spendID, c.shopID)
	if err != nil {
		return 0, err
	}
	type use struct{ lot, back int64 }
	var uses []use
	left := c.points
	for rows.Next() && left > 0 {
		var u use
		var open int64
		if err := rows.Scan(&u.lot, &open); err != nil {
			rows.Close()
			return 0, err
		}
		u.back = min(open, left)
		left -= u.back
		uses = append(uses, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if left > 0 {
		return 0, fmt.Errorf("points: spend %d has %d points less to give back than asked", spendID, left)
	}
	_ = id
	for _, u := range uses {
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE points_lot_uses SET returned = returned + ? WHERE spend_id = ? AND lot_id = ? AND amount - returned >= ?`,
			u.back, spendID, u.lot, u.back)); err != nil {
			return 0, err
		}
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE points_entries SET remaining = remaining + ? WHERE id = ? AND shop_id = ?`, u.back, u.lot, c.shopID)); err != nil {
			return 0, err
		}
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE points_accounts SET balance = balance + ?, spent = spent - ?, updated_at = ?
		WHERE shop_id = ? AND member_id = ?`, c.points, c.points, now, c.shopID, c.memberID)); err != nil {
		return 0, err
	}
	return c.points, expireDue(ctx, tx, c.shopID, []int64{c.memberID}, now)
}

// lockAccount takes the member's account row first (a no-op update: on
// PostgreSQL a row lock), as a spend does before it touches lots or mall
// items: every change of a member's points locks in the same order, so
// a spend and a give-back or a cancel cannot deadlock.
func lockAccount(ctx context.Context, tx *db.Tx, shopID, memberID, now int64) error {
	return db.ExpectOne(tx.Exec(ctx, `UPDATE points_accounts SET updated_at = ? WHERE shop_id = ? AND member_id = ?`, now, shopID, memberID))
}

// Account is a member's points.
type Account struct {
	Balance int64 `json:"balance" doc:"points held now"`
	Earned  int64 `json:"earned" doc:"points ever earned, rewarded or added by staff"`
	Spent   int64 `json:"spent" doc:"points spent at checkout (net of what came back)"`
	Expired int64 `json:"expired"`
}

// account reads the member's account; a member with no entries has zeros.
// Lots past their expiry that the expiry job has not reached yet are not
// counted in the balance shown.
func account(ctx context.Context, q db.Querier, shopID, memberID int64, now int64) (Account, error) {
	var a Account
	var due sql.NullInt64
	err := q.QueryRow(ctx, `SELECT a.balance, a.earned, a.spent, a.expired,
			(SELECT SUM(e.remaining) FROM points_entries e WHERE e.shop_id = a.shop_id AND e.member_id = a.member_id
				AND e.remaining > 0 AND e.expires_at <= ?)
		FROM points_accounts a WHERE a.shop_id = ? AND a.member_id = ?`, now, shopID, memberID).Scan(&a.Balance, &a.Earned, &a.Spent, &a.Expired, &due)
	if db.IsNoRows(err) {
		return Account{}, nil
	}
	a.Balance -= due.Int64
	a.Expired += due.Int64
	return a, err
}
