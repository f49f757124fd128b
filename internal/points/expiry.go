package points

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// ExpireKind is the periodic job that expires due lots.
const ExpireKind = "points.expire"

// expireBatch is how many due lots one pass of the expiry reads: their
// members' due lots all expire in one transaction per shop.
const expireBatch = 1000

// RegisterJobs runs the expiry hourly on one process of the cluster.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Every(ExpireKind, time.Hour, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.ExpireDue(ctx)
		return err
	})
	s.registerNotice(q)
}

// ExpireDue expires every lot past its time, member by member, each with
// one expire entry, and reports how many members lost points. Processed
// lots leave the partial index of live lots, so each pass reads only what
// is left to do.
func (s *Service) ExpireDue(ctx context.Context) (members int, err error) {
	for {
		now := s.now().UnixMilli()
		due, err := dueMembers(ctx, s.db, now)
		if err != nil || len(due) == 0 {
			return members, err
		}
		for shopID, ids := range due {
			if err := s.db.InTx(ctx, func(tx *db.Tx) error { return expireDue(ctx, tx, shopID, ids, now) }); err != nil {
				return members, err
			}
			members += len(ids)
		}
	}
}

// dueMembers is the members (by shop) of up to expireBatch due lots.
func dueMembers(ctx context.Context, q db.Querier, now int64) (map[int64][]int64, error) {
	rows, err := q.Query(ctx, `SELECT shop_id, member_id FROM points_entries WHERE remaining > 0 AND expires_at <= ? LIMIT ?`, now, expireBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seen := map[[2]int64]bool{}
	out := map[int64][]int64{}
	for rows.Next() {
		var k [2]int64
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		if !seen[k] {
			seen[k] = true
			out[k[0]] = append(out[k[0]], k[1])
		}
	}
	return out, rows.Err()
}

// expireDue expires the due lots of these members of one shop inside tx:
// one expire entry each, the balance and lots by the same amount. The
// accounts are locked first (an update, on PostgreSQL a row lock), so a
// concurrent spend cannot take a lot between the sums and the updates.
func expireDue(ctx context.Context, tx *db.Tx, shopID int64, memberIDs []int64, now int64) error {
	in, args := inList(memberIDs)
	if len(memberIDs) == 1 {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM points_entries WHERE shop_id = ? AND member_id = ? AND remaining > 0 AND expires_at <= ? LIMIT 1`,
			shopID, memberIDs[0], now).Scan(&one)
		if db.IsNoRows(err) {
			return nil // the common case of a spend: nothing due
		}
		if err != nil {
			return err
		}
	}
	scope := func(first ...any) []any { return append(append(first, shopID), args...) }
	if _, err := tx.Exec(ctx, `UPDATE points_accounts SET updated_at = ? WHERE shop_id = ? AND member_id IN `+in, scope(now)...); err != nil {
		return err
	}
	key := ":" + strconv.FormatInt(now, 10)
	if _, err := tx.Exec(ctx, `INSERT INTO points_entries (shop_id, member_id, delta, kind, reason, source_type, source_id, idem_key, remaining, created_at)
		SELECT shop_id, member_id, -SUM(remaining), 'expire', 'points expired', 'expiry', '', 'expire:' || member_id || ?, 0, ?
		FROM points_entries WHERE remaining > 0 AND expires_at <= ? AND shop_id = ? AND member_id IN `+in+`
		GROUP BY shop_id, member_id`, scope(key, now, now)...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE points_accounts SET balance = balance - due.amount, expired = expired + due.amount
		FROM (SELECT member_id, CAST(SUM(remaining) AS BIGINT) AS amount FROM points_entries
			WHERE remaining > 0 AND expires_at <= ? AND shop_id = ? AND member_id IN `+in+` GROUP BY member_id) AS due
		WHERE points_accounts.shop_id = ? AND points_accounts.member_id IN `+in+` AND points_accounts.member_id = due.member_id`,
		append(scope(now), scope()...)...); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE points_entries SET remaining = 0 WHERE remaining > 0 AND expires_at <= ? AND shop_id = ? AND member_id IN `+in,
		scope(now)...)
	return err
}

// inList is "(?, ?, …)" for ids and the ids as arguments.
func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")", args
}
