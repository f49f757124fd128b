package promotion

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Claim is a buyer's hold on units of a flash sale: it becomes an order
// (checkout with flash_claim_id) or expires when its payment window passes.
type Claim struct {
	ID        int64     `json:"id"`
	SaleID    int64     `json:"sale_id"`
	Quantity  int64     `json:"quantity"`
	Status    string    `json:"status" enum:"held,ordered,expired" doc:"held, ordered or expired"`
	OrderID   *int64    `json:"order_id"`
	ExpiresAt time.Time `json:"expires_at" doc:"pay before this, or the units go back to the sale"`
	CreatedAt time.Time `json:"created_at"`
}

// Errors a buyer gets from a flash sale; all but the last are decided in
// memory, without the database.
var (
	ErrSoldOut        = errs.E(errs.Gone, "sold_out", "the flash sale is sold out")
	errNotStarted     = errs.E(errs.Conflict, "flash_sale_not_started", "the flash sale has not started")
	errEnded          = errs.E(errs.Gone, "flash_sale_ended", "the flash sale has ended")
	errAlreadyClaimed = errs.E(errs.Conflict, "already_claimed", "you already hold units of this flash sale")
	errBadToken       = errs.Field("token", "flash_token_invalid", "get a fresh token from /api/v1/flash-sales/{id}/token")
	errTokenUsed      = errs.Field("token", "flash_token_used", "this token was used; get a fresh one")
	errNotEnoughLeft  = errs.E(errs.Conflict, "not_enough_left", "fewer units are left than you asked for")
)

// tooFast refuses a request sent before the limiter's window lets it
// through; wait is that window's rest, sent as Retry-After.
func tooFast(wait time.Duration) error {
	return errs.TooMany("too_many_requests", "too many requests; try again after Retry-After seconds", wait)
}

// Tuning of the claim engine.
const (
	// maxBatch claims go to the database in one transaction.
	defaultMaxBatch = 4096
	// A sold-out sale is checked again at most this often per process (units
	// come back when claims expire unpaid).
	soldOutRecheck = time.Second
	// One buyer may try to claim at most once per memberGap per sale.
	memberGap = 300 * time.Millisecond
	// tokenTTL is how long a claim token is good for; tokens are issued from
	// tokenLead before the start.
	tokenTTL  = 30 * time.Minute
	tokenLead = 5 * time.Minute
)

// Claimer takes buyers' claims on flash sales. Buyers that cannot win
// (sale not open, sold out, already holding, too fast, bad token) are
// turned away in memory; the rest queue per sale and a single goroutine per
// sale writes them in batches: one transaction takes many claims with a
// compare-and-set on the sale's remaining units. The database stays the
// judge, so several processes on one PostgreSQL sell exactly the quantity
// (the sale row is locked for the batch).
type Claimer struct {
	db       *db.DB
	now      func() time.Time
	key      []byte
	MaxBatch int

	mu    sync.Mutex // held while a sale is loaded
	sales sync.Map   // sale id → *hotSale
	done  chan struct{}

	batches, batched atomic.Int64 // transactions written, claims they carried
}

// Stats reports how many batch transactions the engine wrote and how many
// claims they carried (for benchmarks and metrics).
func (c *Claimer) Stats() (batches, claims int64) { return c.batches.Load(), c.batched.Load() }

// hotSale is a sale's in-memory state in this process.
type hotSale struct {
	shopID    int64
	sale      Sale
	queue     chan *claimReq
	soldOut   atomic.Bool
	nextCheck atomic.Int64 // unix ms: when a sold-out sale may be checked again
	// known is the sale's remaining units as this process last read them,
	// inflight the units of claims admitted but not yet written. A claim
	// that would take inflight past known is sold out without a
	// transaction. This only holds requests back; the database decides who
	// wins (another process may have sold what known still counts).
	known, inflight atomic.Int64
	holders         sync.Map // member id → unix ms until which they hold a claim
	lastTry         sync.Map // member id → unix ms of their last attempt
	usedToken       sync.Map // token → struct{}
}

type claimReq struct {
	memberID, qty int64
	done          chan claimResult
}

type claimResult struct {
	claim Claim
	err   error
}

// NewClaimer returns a claim engine; key signs claim tokens (processes that
// share a database must share it).
func NewClaimer(d *db.DB, key []byte) *Claimer {
	return &Claimer{db: d, now: time.Now, key: key, MaxBatch: defaultMaxBatch, done: make(chan struct{})}
}

// Close stops the per-sale writers.
func (c *Claimer) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
	default:
		close(c.done)
	}
}

// Token issues the claim token a buyer must send with a claim: bound to
// the sale and the buyer, valid for tokenTTL, issued from tokenLead before
// the start (so a script cannot stock up on them).
func (c *Claimer) Token(ctx context.Context, shopID, saleID, memberID int64) (string, time.Time, error) {
	h, err := c.hot(ctx, shopID, saleID)
	if err != nil {
		return "", time.Time{}, err
	}
	now := c.now()
	if now.Before(h.sale.StartsAt.Add(-tokenLead)) {
		return "", time.Time{}, errs.E(errs.Conflict, "flash_sale_not_started", "tokens are issued from 5 minutes before the start")
	}
	if !now.Before(h.sale.EndsAt) {
		return "", time.Time{}, errEnded
	}
	issued := strconv.FormatInt(now.UnixMilli(), 10)
	return issued + "." + c.sign(saleID, memberID, issued), now.Add(tokenTTL), nil
}

func (c *Claimer) sign(saleID, memberID int64, issued string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("flash:" + strconv.FormatInt(saleID, 10) + ":" + strconv.FormatInt(memberID, 10) + ":" + issued))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (c *Claimer) tokenValid(saleID, memberID int64, token string, now time.Time) bool {
	issued, mac, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	ms, err := strconv.ParseInt(issued, 10, 64)
	if err != nil {
		return false
	}
	age := now.Sub(time.UnixMilli(ms))
	return age >= -time.Minute && age <= tokenTTL && hmac.Equal([]byte(mac), []byte(c.sign(saleID, memberID, issued)))
}

// Claim takes qty units of a flash sale for a buyer, or says why not.
func (c *Claimer) Claim(ctx context.Context, shopID, saleID, memberID, qty int64, token string) (Claim, error) {
	h, err := c.hot(ctx, shopID, saleID)
	if err != nil {
		return Claim{}, err
	}
	now := c.now()
	if err := h.admit(ctx, c, memberID, qty, token, now); err != nil {
		return Claim{}, err
	}
	req := &claimReq{memberID: memberID, qty: qty, done: make(chan claimResult, 1)}
	select {
	case h.queue <- req:
	case <-ctx.Done():
		return Claim{}, ctx.Err()
	}
	select {
	case r := <-req.done:
		return r.claim, r.err
	case <-ctx.Done():
		return Claim{}, ctx.Err()
	}
}

// admit turns away, in memory, every claim that cannot win.
func (h *hotSale) admit(ctx context.Context, c *Claimer, memberID, qty int64, token string, now time.Time) error {
	if now.Before(h.sale.StartsAt) {
		return errNotStarted
	}
	if !now.Before(h.sale.EndsAt) {
		return errEnded
	}
	if qty < 1 || qty > h.sale.PerUserLimit {
		return errs.Field("quantity", "over_limit", "must be 1 to "+strconv.FormatInt(h.sale.PerUserLimit, 10))
	}
	nowMS := now.UnixMilli()
	if c.key != nil && !c.tokenValid(h.sale.ID, memberID, token, now) {
		return errBadToken
	}
	if last, loaded := h.lastTry.Swap(memberID, nowMS); loaded && nowMS-last.(int64) < memberGap.Milliseconds() {
		return tooFast(memberGap) // the refused try was recorded too: the gap starts again now
	}
	if err := c.stillHolding(ctx, h, memberID, nowMS); err != nil {
		return err
	}
	if c.key != nil {
		if _, used := h.usedToken.LoadOrStore(token, struct{}{}); used {
			return errTokenUsed
		}
	}
	// Sold out as far as this process knows: only one request per
	// soldOutRecheck goes on to ask the database.
	over := h.inflight.Add(qty) > h.known.Load()
	if (over || h.soldOut.Load()) && !h.recheckDue(nowMS) {
		h.inflight.Add(-qty)
		return ErrSoldOut
	}
	return nil
}

// stillHolding turns away a buyer who holds a live claim. This process
// remembers the claims it gave; but a claim ends when its order is
// cancelled, on any server, so a remembered claim is checked in the
// database (at most once per memberGap per buyer, after the rate check)
// and forgotten once it has ended: the buyer may claim again at once.
func (c *Claimer) stillHolding(ctx context.Context, h *hotSale, memberID, nowMS int64) error {
	until, ok := h.holders.Load(memberID)
	if !ok || nowMS >= until.(int64) {
		return nil
	}
	var live int
	err := c.db.QueryRow(ctx, `SELECT COUNT(*) FROM flash_claims WHERE sale_id = ? AND member_id = ? AND status <> 'expired'`,
		h.sale.ID, memberID).Scan(&live)
	if err != nil {
		return errs.Wrap("flash claim", err)
	}
	if live > 0 {
		return errAlreadyClaimed
	}
	h.holders.CompareAndDelete(memberID, until)
	return nil
}

// recheckDue lets one request per soldOutRecheck through to the database.
func (h *hotSale) recheckDue(nowMS int64) bool {
	next := h.nextCheck.Load()
	return nowMS >= next && h.nextCheck.CompareAndSwap(next, nowMS+soldOutRecheck.Milliseconds())
}

// hot returns the sale's in-memory state, loading it on first use (once:
// a burst of first buyers waits for one read, not one read each) and
// starting its writer.
func (c *Claimer) hot(ctx context.Context, shopID, saleID int64) (*hotSale, error) {
	v, ok := c.sales.Load(saleID)
	if !ok {
		c.mu.Lock()
		defer c.mu.Unlock()
		if v, ok = c.sales.Load(saleID); !ok {
			sl, err := scanSale(c.db.QueryRow(ctx, `SELECT `+saleColumns+` FROM flash_sales WHERE id = ? AND shop_id = ?`, saleID, shopID))
			if db.IsNoRows(err) {
				return nil, errSaleNotFound
			}
			if err != nil {
				return nil, errs.Wrap("flash sale", err)
			}
			h := &hotSale{shopID: shopID, sale: sl, queue: make(chan *claimReq, 8192)}
			h.known.Store(sl.Remaining)
			c.sales.Store(saleID, h)
			go c.write(h)
			v = h
		}
	}
	h := v.(*hotSale)
	if h.shopID != shopID {
		return nil, errSaleNotFound
	}
	return h, nil
}

// write is the sale's single writer: it takes whatever claims are queued
// (up to MaxBatch) and settles them in one transaction.
func (c *Claimer) write(h *hotSale) {
	batch := make([]*claimReq, 0, c.MaxBatch)
	for {
		select {
		case <-c.done:
			return
		case req := <-h.queue:
			batch = append(batch[:0], req)
		}
	drain:
		for len(batch) < c.MaxBatch {
			select {
			case req := <-h.queue:
				batch = append(batch, req)
			default:
				break drain
			}
		}
		c.settle(h, batch)
	}
}

// settle runs one batch: in a transaction that locks the sale row, it
// drops buyers who already hold a claim, gives units in arrival order
// while they last, inserts the claims, and takes the units off the sale
// with a compare-and-set on the remaining count it read.
func (c *Claimer) settle(h *hotSale, batch []*claimReq) {
	ctx := context.Background()
	c.batches.Add(1)
	c.batched.Add(int64(len(batch)))
	now := c.now()
	expires := now.Add(time.Duration(h.sale.PayMinutes) * time.Minute)
	results := make([]claimResult, len(batch))
	var left int64
	err := c.db.InTx(ctx, func(tx *db.Tx) error {
		clear(results)
		var err error
		if left, err = lockRemaining(ctx, tx, h.shopID, h.sale.ID); err != nil {
			return err
		}
		before := left
		if left, err = c.award(ctx, tx, h, batch, results, left, expires, now); err != nil {
			return err
		}
		if left == before {
			return nil
		}
		return db.ExpectOne(tx.Exec(ctx, `UPDATE flash_sales SET remaining = ?, updated_at = ? WHERE id = ? AND remaining = ?`,
			left, now.UnixMilli(), h.sale.ID, before))
	})
	if err != nil {
		for i := range results {
			results[i] = claimResult{err: errs.Wrap("claim flash sale", err)}
		}
	} else {
		h.soldOut.Store(left == 0)
		if left == 0 {
			h.nextCheck.Store(now.Add(soldOutRecheck).UnixMilli())
		}
	}
	var qty int64
	for _, r := range batch {
		qty += r.qty
	}
	if err == nil {
		h.known.Store(left)
	}
	h.inflight.Add(-qty)
	for i, r := range batch {
		if results[i].err == nil {
			h.holders.Store(r.memberID, expires.UnixMilli())
		}
		r.done <- results[i]
	}
}

func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// lockRemaining reads the sale's remaining units, locking its row on
// PostgreSQL so batches from several processes take turns (SQLite's single
// writer already serialises them).
func lockRemaining(ctx context.Context, tx *db.Tx, shopID, saleID int64) (int64, error) {
	q := `SELECT remaining FROM flash_sales WHERE id = ? AND shop_id = ?`
	if tx.Engine() == db.Postgres {
		q += ` FOR UPDATE`
	}
	var left int64
	err := tx.QueryRow(ctx, q, saleID, shopID).Scan(&left)
	return left, err
}

// award gives units to the batch's buyers in arrival order while they
// last. Candidates are inserted with ON CONFLICT DO NOTHING: a buyer who
// already holds a live claim (from an earlier batch or another process)
// is not inserted and is told so, and the units meant for them go to the
// next buyers in the queue. It fills results and returns the units left.
func (c *Claimer) award(ctx context.Context, tx *db.Tx, h *hotSale, batch []*claimReq, results []claimResult,
	left int64, expires, now time.Time) (int64, error) {
	pending := make([]int, 0, len(batch))
	seen := make(map[int64]bool, len(batch))
	for i, r := range batch {
		if seen[r.memberID] {
			results[i].err = errAlreadyClaimed
			continue
		}
		seen[r.memberID] = true
		pending = append(pending, i)
	}
	for left > 0 {
		var cand, rest []int
		var members, qtys []int64
		budget := left
		for _, i := range pending {
			if q := batch[i].qty; q <= budget {
				cand, members, qtys = append(cand, i), append(members, batch[i].memberID), append(qtys, q)
				budget -= q
			} else {
				rest = append(rest, i)
			}
		}
		if len(cand) == 0 {
			break
		}
		ids, err := insertClaims(ctx, tx, h.shopID, h.sale.ID, members, qtys, expires, now)
		if err != nil {
			return 0, err
		}
		for _, i := range cand {
			r := batch[i]
			id, ok := ids[r.memberID]
			if !ok {
				results[i].err = errAlreadyClaimed
				continue
			}
			left -= r.qty
			results[i].claim = Claim{ID: id, SaleID: h.sale.ID, Quantity: r.qty, Status: "held", ExpiresAt: ms(expires), CreatedAt: ms(now)}
		}
		pending = rest
	}
	for _, i := range pending {
		results[i].err = ErrSoldOut
		if left > 0 {
			results[i].err = errNotEnoughLeft
		}
	}
	return left, nil
}

// insertClaims writes claims in one statement, skipping buyers who hold a
// live claim already, and returns the new ids by member.
func insertClaims(ctx context.Context, tx *db.Tx, shopID, saleID int64, members, qtys []int64, expires, now time.Time) (map[int64]int64, error) {
	if tx.Engine() == db.SQLite {
		return insertClaimsSQLite(ctx, tx, shopID, saleID, members, qtys, expires, now)
	}
	rows, err := tx.Query(ctx, `INSERT INTO flash_claims (shop_id, sale_id, member_id, quantity, status, expires_at, created_at)
		SELECT ?, ?, m, n, 'held', ?, ? FROM unnest(?::bigint[], ?::bigint[]) AS t(m, n)
		ON CONFLICT DO NOTHING RETURNING member_id, id`, shopID, saleID, expires.UnixMilli(), now.UnixMilli(), members, qtys)
	if err != nil {
		return nil, err
	}
	return claimIDs(rows, len(members))
}

// insertClaimsSQLite numbers the claims itself (the transaction holds
// SQLite's only write lock, so MAX(id) cannot move) and sends them as one
// JSON array: one statement, no row coming back unless a buyer was
// skipped.
func insertClaimsSQLite(ctx context.Context, tx *db.Tx, shopID, saleID int64, members, qtys []int64, expires, now time.Time) (map[int64]int64, error) {
	var last int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM flash_claims`).Scan(&last); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 32*len(members)+2)
	buf = append(buf, '[')
	for i := range members {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = strconv.AppendInt(buf, last+1+int64(i), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, members[i], 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, qtys[i], 10)
		buf = append(buf, ']')
	}
	buf = append(buf, ']')
	res, err := tx.Exec(ctx, `INSERT INTO flash_claims (id, shop_id, sale_id, member_id, quantity, status, expires_at, created_at)
		SELECT value ->> 0, ?, ?, value ->> 1, value ->> 2, 'held', ?, ? FROM json_each(?) WHERE TRUE
		ON CONFLICT DO NOTHING`, shopID, saleID, expires.UnixMilli(), now.UnixMilli(), string(buf))
	if err != nil {
		return nil, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, err
	}
	if n == int64(len(members)) {
		ids := make(map[int64]int64, len(members))
		for i, m := range members {
			ids[m] = last + 1 + int64(i)
		}
		return ids, nil
	}
	rows, err := tx.Query(ctx, `SELECT member_id, id FROM flash_claims WHERE id > ? AND id <= ?`, last, last+int64(len(members)))
	if err != nil {
		return nil, err
	}
	return claimIDs(rows, len(members))
}

func claimIDs(rows *sql.Rows, n int) (map[int64]int64, error) {
	defer rows.Close()
	ids := make(map[int64]int64, n)
	for rows.Next() {
		var m, id int64
		if err := rows.Scan(&m, &id); err != nil {
			return nil, err
		}
		ids[m] = id
	}
	return ids, rows.Err()
}
