package promotion

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/payment"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Group-buying job kinds: close the groups whose time is up (periodic),
// and settle one group (queued when a group fills up or closes).
const (
	CloseGroupsKind = "group.close_due"
	SettleGroupKind = "group.settle"
)

// Tier is a group size and the price each member pays at that size.
type Tier struct {
	Size  int64 `json:"size"`
	Price int64 `json:"price" doc:"fen"`
}

// Deal is a group-buying offer (拼团) on one SKU.
type Deal struct {
	ID              int64     `json:"id"`
	SKUID           int64     `json:"sku_id"`
	Title           string    `json:"title"`
	Tiers           []Tier    `json:"tiers" doc:"sizes ascending, prices descending"`
	DurationMinutes int64     `json:"duration_minutes" doc:"how long a group has to fill up"`
	AllowVirtual    bool      `json:"allow_virtual" doc:"模拟成团: complete a group that misses the smallest size with virtual members"`
	StartsAt        time.Time `json:"starts_at"`
	EndsAt          time.Time `json:"ends_at"`
	CreatedAt       time.Time `json:"created_at"`
}

// NewDeal is what staff send to create a deal.
type NewDeal struct {
	SKUID           int64     `json:"sku_id"`
	Title           string    `json:"title"`
	Tiers           []Tier    `json:"tiers"`
	DurationMinutes int64     `json:"duration_minutes" doc:"default 1440 (24 hours)"`
	AllowVirtual    bool      `json:"allow_virtual"`
	StartsAt        time.Time `json:"starts_at"`
	EndsAt          time.Time `json:"ends_at"`
}

func (in *NewDeal) validate() error {
	in.Title = strings.TrimSpace(in.Title)
	if in.DurationMinutes == 0 {
		in.DurationMinutes = 1440
	}
	sort.Slice(in.Tiers, func(i, j int) bool { return in.Tiers[i].Size < in.Tiers[j].Size })
	var v errs.Validator
	v.Check(in.SKUID > 0, "sku_id", "must be a SKU id")
	v.Check(len([]rune(in.Title)) >= 1 && len([]rune(in.Title)) <= 60, "title", "must be 1 to 60 characters")
	v.Check(len(in.Tiers) >= 1 && len(in.Tiers) <= 5, "tiers", "give 1 to 5 tiers")
	for i, t := range in.Tiers {
		v.Check(t.Size >= 2 && t.Size <= 100, fmt.Sprintf("tiers[%d].size", i), "must be 2 to 100")
		v.Check(t.Price >= 1 && t.Price <= 100_000_000_00, fmt.Sprintf("tiers[%d].price", i), "must be a positive number of fen")
		if i > 0 {
			v.Check(t.Size > in.Tiers[i-1].Size && t.Price < in.Tiers[i-1].Price, "tiers", "bigger groups must have lower prices, one tier per size")
		}
	}
	v.Check(in.DurationMinutes >= 5 && in.DurationMinutes <= 7*1440, "duration_minutes", "must be 5 minutes to 7 days")
	v.Check(!in.StartsAt.IsZero() && in.EndsAt.After(in.StartsAt), "ends_at", "must be after starts_at")
	return v.Err()
}

// CreateDeal adds a group-buying deal to the shop.
func (s *Service) CreateDeal(ctx context.Context, shopID int64, in NewDeal) (Deal, error) {
	if err := in.validate(); err != nil {
		return Deal{}, err
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM skus WHERE id = ? AND shop_id = ? AND deleted_at IS NULL`, in.SKUID, shopID).Scan(&n); err != nil {
		return Deal{}, errs.Wrap("create deal", err)
	}
	if n == 0 {
		return Deal{}, errs.Field("sku_id", "sku_not_found", "no such SKU in this shop")
	}
	tiers, _ := json.Marshal(in.Tiers)
	now := s.now().UnixMilli()
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO group_deals (shop_id, sku_id, title, tiers, min_size, max_size, open_price, duration_minutes,
		allow_virtual, starts_at, ends_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, in.SKUID, in.Title, string(tiers), in.Tiers[0].Size, in.Tiers[len(in.Tiers)-1].Size, in.Tiers[0].Price,
		in.DurationMinutes, in.AllowVirtual, in.StartsAt.UnixMilli(), in.EndsAt.UnixMilli(), now, now).Scan(&id)
	if err != nil {
		return Deal{}, errs.Wrap("create deal", err)
	}
	return s.Deal(ctx, shopID, id)
}

const dealColumns = `id, sku_id, title, tiers, duration_minutes, allow_virtual, starts_at, ends_at, created_at`

func scanDeal(row db.Scanner) (Deal, error) {
	var d Deal
	var tiers string
	var starts, ends, created int64
	err := row.Scan(&d.ID, &d.SKUID, &d.Title, &tiers, &d.DurationMinutes, &d.AllowVirtual, &starts, &ends, &created)
	_ = json.Unmarshal([]byte(tiers), &d.Tiers)
	d.StartsAt, d.EndsAt, d.CreatedAt = time.UnixMilli(starts).UTC(), time.UnixMilli(ends).UTC(), time.UnixMilli(created).UTC()
	return d, err
}

var errDealNotFound = errs.E(errs.NotFound, "group_deal_not_found", "no such group-buying deal")

// Deal returns one deal of the shop.
func (s *Service) Deal(ctx context.Context, shopID, id int64) (Deal, error) {
	d, err := scanDeal(s.db.QueryRow(ctx, `SELECT `+dealColumns+` FROM group_deals WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Deal{}, errDealNotFound
	}
	return d, errs.Wrap("deal", err)
}

// tierFor is the tier a group of n members reaches (ok = false under the
// smallest size).
func tierFor(tiers []Tier, n int64) (Tier, bool) {
	var best Tier
	ok := false
	for _, t := range tiers {
		if n >= t.Size {
			best, ok = t, true
		}
	}
	return best, ok
}

var (
	errGroupNotFound = errs.E(errs.NotFound, "group_not_found", "no such group")
	errGroupClosed   = errs.E(errs.Conflict, "group_closed", "the group is closed")
	errGroupFull     = errs.E(errs.Conflict, "group_full", "the group is full")
	errInGroup       = errs.E(errs.Conflict, "already_in_group", "you are already in this group")
	errDealNotOpen   = errs.E(errs.Conflict, "group_deal_not_open", "the deal is not running now")
	errGroupCoupon   = errs.Field("member_coupon_id", "coupon_not_allowed", "coupons do not apply to group buying")
)

// lookupGroup checks that a buyer may open a group of the deal (dealID) or
// join a group (groupID), and returns the line they pay for: one unit at
// the smallest tier's price.
func lookupGroup(ctx context.Context, q db.Querier, shopID, memberID, dealID, groupID int64, now time.Time) (order.GroupLine, error) {
	var line order.GroupLine
	var starts, ends int64
	if groupID != 0 {
		var status string
		var expires, seats, maxSize, mine int64
		err := q.QueryRow(ctx, `SELECT g.status, g.expires_at, g.deal_id, d.max_size,
			(SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id AND m.status <> 'cancelled'),
			(SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id AND m.member_id = ? AND m.status <> 'cancelled')
			FROM group_buys g JOIN group_deals d ON d.id = g.deal_id WHERE g.id = ? AND g.shop_id = ?`, memberID, groupID, shopID).
			Scan(&status, &expires, &dealID, &maxSize, &seats, &mine)
		if db.IsNoRows(err) {
			return line, errGroupNotFound
		}
		if err != nil {
			return line, err
		}
		switch {
		case status != "forming" || expires <= now.UnixMilli():
			return line, errGroupClosed
		case mine > 0:
			return line, errInGroup
		case seats >= maxSize:
			return line, errGroupFull
		}
	}
	err := q.QueryRow(ctx, `SELECT sku_id, open_price, starts_at, ends_at FROM group_deals WHERE id = ? AND shop_id = ?`, dealID, shopID).
		Scan(&line.SKUID, &line.Price, &starts, &ends)
	if db.IsNoRows(err) {
		return line, errDealNotFound
	}
	if err != nil {
		return line, err
	}
	if groupID == 0 && (now.UnixMilli() < starts || now.UnixMilli() >= ends) {
		return line, errDealNotOpen
	}
	return line, nil
}

// takeSeat opens the group (groupID 0) or takes a seat in it for the new
// order; the seat index keeps a buyer from sitting twice even under
// concurrent checkouts, and the count re-check keeps a group from
// overfilling (serialised by the group row's update).
func takeSeat(ctx context.Context, tx *db.Tx, shopID, memberID, orderID, dealID, groupID int64, now time.Time) (int64, error) {
	if groupID == 0 {
		var minutes int64
		if err := tx.QueryRow(ctx, `SELECT duration_minutes FROM group_deals WHERE id = ? AND shop_id = ?`, dealID, shopID).Scan(&minutes); err != nil {
			return 0, err
		}
		err := tx.QueryRow(ctx, `INSERT INTO group_buys (shop_id, deal_id, leader_id, status, expires_at, created_at)
			VALUES (?, ?, ?, 'forming', ?, ?) RETURNING id`, shopID, dealID, memberID,
			now.Add(time.Duration(minutes)*time.Minute).UnixMilli(), now.UnixMilli()).Scan(&groupID)
		if err != nil {
			return 0, err
		}
	} else {
		// Touch the group row first: on PostgreSQL this locks it, so two
		// buyers taking the last seat take turns.
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE group_buys SET status = status WHERE id = ? AND shop_id = ? AND status = 'forming' AND expires_at > ?`,
			groupID, shopID, now.UnixMilli()))
		if db.IsNoRows(err) {
			return 0, errGroupClosed
		}
		if err != nil {
			return 0, err
		}
		var seats, maxSize int64
		if err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM group_members WHERE group_id = ? AND status <> 'cancelled'), d.max_size
			FROM group_buys g JOIN group_deals d ON d.id = g.deal_id WHERE g.id = ?`, groupID, groupID).Scan(&seats, &maxSize); err != nil {
			return 0, err
		}
		if seats >= maxSize {
			return 0, errGroupFull
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO group_members (shop_id, group_id, member_id, order_id, status, joined_at)
		VALUES (?, ?, ?, ?, 'pending', ?)`, shopID, groupID, memberID, orderID, now.UnixMilli())
	if db.IsUniqueViolation(err) {
		return 0, errInGroup
	}
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `UPDATE orders SET group_id = ? WHERE id = ? AND shop_id = ?`, groupID, orderID, shopID)
	return groupID, err
}

// seatPaid counts a group member's seat once their order is paid; a group
// that fills up is settled at once (by a job, after this transaction).
func seatPaid(ctx context.Context, tx *db.Tx, shopID, orderID int64) error {
	var groupID, memberRow, paid int64
	err := tx.QueryRow(ctx, `SELECT m.id, m.group_id, o.paid_amount FROM group_members m JOIN orders o ON o.id = m.order_id
		WHERE m.order_id = ? AND m.shop_id = ? AND m.status = 'pending'`, orderID, shopID).Scan(&memberRow, &groupID, &paid)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE group_members SET status = 'paid', paid_amount = ? WHERE id = ? AND status = 'pending'`,
		paid, memberRow)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE group_buys SET paid_members = paid_members + 1 WHERE id = ?`, groupID); err != nil {
		return err
	}
	var members, maxSize int64
	err = tx.QueryRow(ctx, `SELECT g.paid_members, d.max_size FROM group_buys g JOIN group_deals d ON d.id = g.deal_id WHERE g.id = ?`,
		groupID).Scan(&members, &maxSize)
	if err != nil || members < maxSize {
		return err
	}
	_, err = jobs.Enqueue(ctx, tx, SettleGroupKind, settleGroupJob{GroupID: groupID}, jobs.Options{ShopID: shopID,
		UniqueKey: fmt.Sprintf("group-settle:%d", groupID), MaxAttempts: 20})
	return err
}

// seatCancelled frees a seat whose order was cancelled.
func seatCancelled(ctx context.Context, tx *db.Tx, shopID, orderID int64) error {
	_, err := tx.Exec(ctx, `UPDATE group_members SET status = 'cancelled' WHERE order_id = ? AND shop_id = ? AND status = 'pending'`, orderID, shopID)
	return err
}

type settleGroupJob struct {
	GroupID int64 `json:"group_id"`
}

// CloseDueGroups settles every forming group whose time is up (a few
// hundred at a time) and reports how many.
func (s *Service) CloseDueGroups(ctx context.Context) (int, error) {
	rows, err := s.db.Query(ctx, `SELECT id, shop_id FROM group_buys WHERE status = 'forming' AND expires_at <= ? ORDER BY expires_at, id LIMIT 500`,
		s.now().UnixMilli())
	if err != nil {
		return 0, err
	}
	var due [][2]int64
	for rows.Next() {
		var id, shopID int64
		if err := rows.Scan(&id, &shopID); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, [2]int64{id, shopID})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var settled []int64
	var first error
	for i, err := range s.settleGroups(ctx, due) {
		if err == nil {
			settled = append(settled, due[i][0])
		} else if first == nil {
			first = errs.Wrap(fmt.Sprintf("settle group %d", due[i][0]), err)
		}
	}
	if err := s.cancelSeatsUnpaidAtClose(ctx, settled); err != nil {
		return 0, err
	}
	if first != nil {
		return 0, first
	}
	return len(due), nil
}

// settleBatch is how many groups share one transaction when they fall due
// together. Each commit waits for the disk, and on PostgreSQL a
// transaction per group made closing 10,000 groups 13–18 s of commits.
// (32 savepoints also stay within the subtransactions PostgreSQL tracks
// per backend without spilling, 64.)
const settleBatch = 32

// settleGroups settles due groups ({id, shop id}) in transactions of up to
// settleBatch groups, each group in a savepoint of its own (one failing
// group undoes only itself), and returns each group's error. On PostgreSQL
// batches run in parallel; SQLite has one writer.
func (s *Service) settleGroups(ctx context.Context, due [][2]int64) []error {
	results := make([]error, len(due))
	parallel := 1
	if s.db.Engine == db.Postgres {
		parallel = 8
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	now := s.now()
	for start := 0; start < len(due); start += settleBatch {
		batch := due[start:min(start+settleBatch, len(due))]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fns := make([]func(tx *db.Tx) error, len(batch))
			for i, g := range batch {
				fns[i] = func(tx *db.Tx) error { return settleGroupTx(ctx, tx, g[1], g[0], now) }
			}
			copy(results[start:], s.db.InTxEach(ctx, fns))
		}()
	}
	wg.Wait()
	return results
}

// SettleGroup closes a group and refunds its members, each exactly once:
// the group's status and each member's settled flag change by
// compare-and-set in the same transaction as the refund requests. A group
// at a tier refunds each paid member the difference to the tier's price; a
// group under the smallest size refunds everything (or, when the deal
// allows, is completed with virtual members at the smallest tier). Unpaid
// seats' orders are cancelled afterwards.
func (s *Service) SettleGroup(ctx context.Context, shopID, groupID int64) error {
	now := s.now()
	err := s.db.InGroupTx(ctx, func(tx *db.Tx) error { return settleGroupTx(ctx, tx, shopID, groupID, now) })
	if err != nil {
		return errs.Wrap("settle group", err)
	}
	return s.cancelUnpaidSeats(ctx, shopID, groupID)
}

// settleGroupTx is SettleGroup's transaction: it closes the group if it is
// forming and due (or full), and decides and requests its refunds.
func settleGroupTx(ctx context.Context, tx *db.Tx, shopID, groupID int64, now time.Time) error {
	var paid, expires int64
	var status, tiersJSON string
	var allowVirtual bool
	// On PostgreSQL the group's row is locked: a settlement racing on
	// another process waits and then finds the group closed, instead of
	// failing its compare-and-set and being retried (SQLite's single
	// writer already serialises them).
	q := `SELECT g.status, g.paid_members, g.expires_at, d.tiers, d.allow_virtual
		FROM group_buys g JOIN group_deals d ON d.id = g.deal_id WHERE g.id = ? AND g.shop_id = ?`
	if tx.Engine() == db.Postgres {
		q += ` FOR UPDATE OF g`
	}
	err := tx.QueryRow(ctx, q, groupID, shopID).Scan(&status, &paid, &expires, &tiersJSON, &allowVirtual)
	if err != nil || status != "forming" {
		return err
	}
	var tiers []Tier
	_ = json.Unmarshal([]byte(tiersJSON), &tiers)
	tier, reached := tierFor(tiers, paid)
	full := paid >= tiers[len(tiers)-1].Size
	if !full && expires > now.UnixMilli() {
		return nil // not due
	}
	virtual := int64(0)
	if !reached && allowVirtual && paid > 0 {
		tier, reached, virtual = tiers[0], true, tiers[0].Size-paid
	}
	outcome := "failed"
	if reached {
		outcome = "succeeded"
	}
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE group_buys SET status = ?, tier_size = ?, tier_price = ?, virtual_members = ?, closed_at = ?
		WHERE id = ? AND status = 'forming'`, outcome, tier.Size, tier.Price, virtual, now.UnixMilli(), groupID)); err != nil {
		return err
	}
	return refundMembers(ctx, tx, shopID, groupID, reached, tier)
}

// refundMembers decides and requests each paid member's refund once.
func refundMembers(ctx context.Context, tx *db.Tx, shopID, groupID int64, reached bool, tier Tier) error {
	type seat struct{ id, orderID, paid int64 }
	rows, err := tx.Query(ctx, `SELECT id, order_id, paid_amount FROM group_members WHERE group_id = ? AND status = 'paid' AND settled = FALSE`, groupID)
	if err != nil {
		return err
	}
	var seats []seat
	for rows.Next() {
		var st seat
		if err := rows.Scan(&st.id, &st.orderID, &st.paid); err != nil {
			rows.Close()
			return err
		}
		seats = append(seats, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, st := range seats {
		var goods int64
		if err := tx.QueryRow(ctx, `SELECT amount FROM order_lines WHERE order_id = ? AND shop_id = ? ORDER BY id LIMIT 1`, st.orderID, shopID).Scan(&goods); err != nil {
			return err
		}
		refund, reason := st.paid, "拼团未成团，全额退款" // everything, shipping included
		if reached {
			refund, reason = goods-tier.Price, fmt.Sprintf("拼团成团（%d人档），退还差价", tier.Size)
		}
		if err := db.ExpectOne(tx.Exec(ctx, `UPDATE group_members SET settled = TRUE, refund_amount = ? WHERE id = ? AND settled = FALSE`,
			refund, st.id)); err != nil {
			return err
		}
		if refund <= 0 {
			continue
		}
		if _, err := payment.RequestRefundTx(ctx, tx, shopID, st.orderID, payment.RefundInput{Amount: refund, Reason: reason}, order.System); err != nil {
			return err
		}
	}
	return nil
}

// cancelUnpaidSeats cancels the orders of seats nobody paid for by the
// close (their payment window may still be open).
func (s *Service) cancelUnpaidSeats(ctx context.Context, shopID, groupID int64) error {
	return s.cancelSeatOrders(ctx, `SELECT shop_id, order_id FROM group_members
		WHERE group_id = ? AND shop_id = ? AND status = 'pending'`, groupID, shopID)
}

// cancelSeatsUnpaidAtClose is cancelUnpaidSeats for groups closed together
// (one read for all of them).
func (s *Service) cancelSeatsUnpaidAtClose(ctx context.Context, groupIDs []int64) error {
	for len(groupIDs) > 0 {
		page := groupIDs[:min(len(groupIDs), 500)]
		groupIDs = groupIDs[len(page):]
		args := make([]any, len(page))
		for i, id := range page {
			args[i] = id
		}
		err := s.cancelSeatOrders(ctx, `SELECT shop_id, order_id FROM group_members
			WHERE status = 'pending' AND group_id IN (?`+strings.Repeat(", ?", len(page)-1)+`)`, args...)
		if err != nil {
			return err
		}
	}
	return nil
}

// cancelSeatOrders cancels the orders of the seats (shop id, order id) a
// query finds; one already paid, cancelled or gone is left as it is.
func (s *Service) cancelSeatOrders(ctx context.Context, query string, args ...any) error {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	var seats [][2]int64
	for rows.Next() {
		var shopID, orderID int64
		if err := rows.Scan(&shopID, &orderID); err != nil {
			rows.Close()
			return err
		}
		seats = append(seats, [2]int64{shopID, orderID})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, seat := range seats {
		err := s.orders.Cancel(ctx, seat[0], seat[1], 0, order.System, "group closed before payment")
		if err != nil && !errs.Is(err, "illegal_transition") && !errs.Is(err, "order_not_found") {
			return err
		}
	}
	return nil
}

// GroupView is a group as its members and visitors see it.
type GroupView struct {
	ID             int64         `json:"id"`
	Deal           BuyerDeal     `json:"deal"`
	Status         string        `json:"status" enum:"forming,succeeded,failed" doc:"forming, succeeded or failed"`
	Members        []GroupMember `json:"members"`
	PaidMembers    int64         `json:"paid_members"`
	VirtualMembers int64         `json:"virtual_members" doc:"模拟成团: seats filled by the system"`
	MissingToMin   int64         `json:"missing_to_min" doc:"paid members still needed to reach the smallest tier"`
	NextTier       *Tier         `json:"next_tier" doc:"the next tier up, if any"`
	MissingToNext  int64         `json:"missing_to_next"`
	TierSize       int64         `json:"tier_size" doc:"the tier reached at close"`
	TierPrice      int64         `json:"tier_price"`
	ExpiresAt      time.Time     `json:"expires_at"`
	SecondsLeft    int64         `json:"seconds_left"`
}

// GroupMember is one seat, as shown to everyone (no personal data).
type GroupMember struct {
	Nickname string    `json:"nickname"`
	Leader   bool      `json:"leader"`
	Paid     bool      `json:"paid"`
	JoinedAt time.Time `json:"joined_at"`
}

// Group returns a group with who joined, how many are missing, time left.
func (s *Service) Group(ctx context.Context, shopID, groupID int64) (GroupView, error) {
	var g GroupView
	var dealID, leader, expires int64
	err := s.db.QueryRow(ctx, `SELECT id, deal_id, leader_id, status, paid_members, virtual_members, tier_size, tier_price, expires_at
		FROM group_buys WHERE id = ? AND shop_id = ?`, groupID, shopID).
		Scan(&g.ID, &dealID, &leader, &g.Status, &g.PaidMembers, &g.VirtualMembers, &g.TierSize, &g.TierPrice, &expires)
	if db.IsNoRows(err) {
		return g, errGroupNotFound
	}
	if err != nil {
		return g, errs.Wrap("group", err)
	}
	deal, err := s.Deal(ctx, shopID, dealID)
	if err != nil {
		return g, err
	}
	g.Deal = deal.forBuyer()
	g.ExpiresAt = time.UnixMilli(expires).UTC()
	if g.Status == "forming" {
		g.SecondsLeft = max(0, int64(time.Until(g.ExpiresAt).Seconds()))
	}
	g.MissingToMin = max(0, g.Deal.Tiers[0].Size-g.PaidMembers)
	for _, t := range g.Deal.Tiers {
		if t.Size > g.PaidMembers {
			g.NextTier, g.MissingToNext = &t, t.Size-g.PaidMembers
			break
		}
	}
	rows, err := s.db.Query(ctx, `SELECT gm.member_id, m.nickname, gm.status, gm.joined_at FROM group_members gm JOIN members m ON m.id = gm.member_id
		WHERE gm.group_id = ? AND gm.shop_id = ? AND gm.status <> 'cancelled' ORDER BY gm.id`, groupID, shopID)
	if err != nil {
		return g, errs.Wrap("group members", err)
	}
	defer rows.Close()
	g.Members = []GroupMember{}
	for rows.Next() {
		var id, joined int64
		var nick, status string
		if err := rows.Scan(&id, &nick, &status, &joined); err != nil {
			return g, errs.Wrap("group members", err)
		}
		if nick == "" {
			nick = "微信用户"
		}
		g.Members = append(g.Members, GroupMember{Nickname: nick, Leader: id == leader, Paid: status == "paid", JoinedAt: time.UnixMilli(joined).UTC()})
	}
	return g, errs.Wrap("group members", rows.Err())
}

// DealResults is how a deal did.
type DealResults struct {
	Deal          Deal  `json:"deal"`
	Groups        int64 `json:"groups"`
	Forming       int64 `json:"forming"`
	Succeeded     int64 `json:"succeeded"`
	Failed        int64 `json:"failed"`
	Virtual       int64 `json:"virtual" doc:"groups completed with virtual members (模拟成团)"`
	PaidMembers   int64 `json:"paid_members"`
	GMV           int64 `json:"gmv" doc:"paid minus refunded on the deal's orders, fen"`
	RefundedTotal int64 `json:"refunded_total" doc:"fen"`
}

// DealResults reports a deal's groups, members, GMV and refunds.
func (s *Service) DealResults(ctx context.Context, shopID, dealID int64) (DealResults, error) {
	d, err := s.Deal(ctx, shopID, dealID)
	if err != nil {
		return DealResults{}, err
	}
	r := DealResults{Deal: d}
	err = s.db.QueryRow(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN status = 'forming' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN virtual_members > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(paid_members), 0)
		FROM group_buys WHERE deal_id = ? AND shop_id = ?`, dealID, shopID).
		Scan(&r.Groups, &r.Forming, &r.Succeeded, &r.Failed, &r.Virtual, &r.PaidMembers)
	if err == nil {
		err = s.db.QueryRow(ctx, `SELECT COALESCE(SUM(o.paid_amount - o.refunded_amount), 0), COALESCE(SUM(o.refunded_amount), 0)
			FROM orders o JOIN group_buys g ON g.id = o.group_id WHERE g.deal_id = ? AND o.shop_id = ? AND o.paid_at IS NOT NULL`,
			dealID, shopID).Scan(&r.GMV, &r.RefundedTotal)
	}
	return r, errs.Wrap("deal results", err)
}

func (s *Service) registerGroupJobs(q *jobs.Queue) {
	q.Every(CloseGroupsKind, 5*time.Second, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.CloseDueGroups(ctx)
		return err
	})
	q.Handle(SettleGroupKind, func(ctx context.Context, j jobs.Job) error {
		var p settleGroupJob
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return err
		}
		return s.SettleGroup(ctx, j.ShopID, p.GroupID)
	})
}
