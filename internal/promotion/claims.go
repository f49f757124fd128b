package promotion

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	Status    string    `json:"status" doc:"held, ordered or expired"`
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
	errTooFast        = errs.E(errs.RateLimited, "too_many_requests", "too many requests; try again in a moment")
	errBadToken       = errs.Field("token", "flash_token_invalid", "get a fresh token from /api/v1/flash-sales/{id}/token")
	errTokenUsed      = errs.Field("token", "flash_token_used", "this token was used; get a fresh one")
	errNotEnoughLeft  = errs.E(errs.Conflict, "not_enough_left", "fewer units are left than you asked for")
)

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

	mu    sync.Mutex
	sales map[int64]*hotSale
	done  chan struct{}
}

// hotSale is a sale's in-memory state in this process.
type hotSale struct {
	shopID    int64
	sale      Sale
	queue     chan *claimReq
	soldOut   atomic.Bool
	nextCheck atomic.Int64 // unix ms: when a sold-out sale may be checked again
	holders   sync.Map     // member id → unix ms until which they hold a claim
	lastTry   sync.Map     // member id → unix ms of their last attempt
	usedToken sync.Map     // token → struct{}
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
	return &Claimer{db: d, now: time.Now, key: key, MaxBatch: defaultMaxBatch, sales: map[int64]*hotSale{}, done: make(chan struct{})}
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
	if err := h.admit(c, memberID, qty, token, now); err != nil {
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
func (h *hotSale) admit(c *Claimer, memberID, qty int64, token string, now time.Time) error {
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
	if until, ok := h.holders.Load(memberID); ok && nowMS < until.(int64) {
		return errAlreadyClaimed
	}
	if h.soldOut.Load() && !h.recheckDue(nowMS) {
		return ErrSoldOut
	}
	if c.key != nil && !c.tokenValid(h.sale.ID, memberID, token, now) {
		return errBadToken
	}
	if last, loaded := h.lastTry.Swap(memberID, nowMS); loaded && nowMS-last.(int64) < memberGap.Milliseconds() {
		return errTooFast
	}
	if c.key != nil {
		if _, used := h.usedToken.LoadOrStore(token, struct{}{}); used {
			return errTokenUsed
		}
	}
	return nil
}

// recheckDue lets one request per soldOutRecheck through to the database.
func (h *hotSale) recheckDue(nowMS int64) bool {
	next := h.nextCheck.Load()
	return nowMS >= next && h.nextCheck.CompareAndSwap(next, nowMS+soldOutRecheck.Milliseconds())
}

// hot returns the sale's in-memory state, loading it on first use and
// starting its writer.
func (c *Claimer) hot(ctx context.Context, shopID, saleID int64) (*hotSale, error) {
	c.mu.Lock()
	h := c.sales[saleID]
	c.mu.Unlock()
	if h == nil {
		sl, err := scanSale(c.db.QueryRow(ctx, `SELECT `+saleColumns+` FROM flash_sales WHERE id = ? AND shop_id = ?`, saleID, shopID))
		if db.IsNoRows(err) {
			return nil, errSaleNotFound
		}
		if err != nil {
			return nil, errs.Wrap("flash sale", err)
		}
		c.mu.Lock()
		if h = c.sales[saleID]; h == nil {
			h = &hotSale{shopID: shopID, sale: sl, queue: make(chan *claimReq, 8192)}
			c.sales[saleID] = h
			go c.write(h)
		}
		c.mu.Unlock()
	}
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
		held, err := liveHolders(ctx, tx, h.sale.ID, batch)
		if err != nil {
			return err
		}
		var members, qtys []int64
		before := left
		for i, r := range batch {
			switch {
			case held[r.memberID]:
				results[i].err = errAlreadyClaimed
			case left == 0:
				results[i].err = ErrSoldOut
			case r.qty > left:
				results[i].err = errNotEnoughLeft
			default:
				held[r.memberID] = true
				left -= r.qty
				members, qtys = append(members, r.memberID), append(qtys, r.qty)
			}
		}
		if len(members) == 0 {
			return nil
		}
		ids, err := insertClaims(ctx, tx, h.shopID, h.sale.ID, members, qtys, expires, now)
		if err != nil {
			return err
		}
		for i, r := range batch {
			if results[i].err == nil {
				results[i].claim = Claim{ID: ids[r.memberID], SaleID: h.sale.ID, Quantity: r.qty, Status: "held",
					ExpiresAt: ms(expires), CreatedAt: ms(now)}
			}
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

// liveHolders returns which members of the batch already hold a live
// claim, and marks later duplicates within the batch as holders too.
func liveHolders(ctx context.Context, tx *db.Tx, saleID int64, batch []*claimReq) (map[int64]bool, error) {
	ids := make([]int64, len(batch))
	for i, r := range batch {
		ids[i] = r.memberID
	}
	var rows interface {
		Next() bool
		Scan(...any) error
		Close() error
		Err() error
	}
	var err error
	if tx.Engine() == db.Postgres {
		rows, err = tx.Query(ctx, `SELECT member_id FROM flash_claims WHERE sale_id = ? AND status <> 'expired' AND member_id = ANY(?)`, saleID, ids)
	} else {
		list, _ := json.Marshal(ids)
		rows, err = tx.Query(ctx, `SELECT member_id FROM flash_claims WHERE sale_id = ? AND status <> 'expired'
			AND member_id IN (SELECT value FROM json_each(?))`, saleID, string(list))
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := make(map[int64]bool, len(batch))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		held[id] = true
	}
	return held, rows.Err()
}

// insertClaims writes the batch's winning claims in one statement and
// returns their ids by member.
func insertClaims(ctx context.Context, tx *db.Tx, shopID, saleID int64, members, qtys []int64, expires, now time.Time) (map[int64]int64, error) {
	var q string
	var list any
	if tx.Engine() == db.Postgres {
		q = `INSERT INTO flash_claims (shop_id, sale_id, member_id, quantity, status, expires_at, created_at)
			SELECT ?, ?, m, n, 'held', ?, ? FROM unnest(?::bigint[], ?::bigint[]) AS t(m, n) RETURNING member_id, id`
		list = nil
	} else {
		pairs := make([][2]int64, len(members))
		for i := range members {
			pairs[i] = [2]int64{members[i], qtys[i]}
		}
		b, _ := json.Marshal(pairs)
		list = string(b)
		q = `INSERT INTO flash_claims (shop_id, sale_id, member_id, quantity, status, expires_at, created_at)
			SELECT ?, ?, value ->> 0, value ->> 1, 'held', ?, ? FROM json_each(?) RETURNING member_id, id`
	}
	args := []any{shopID, saleID, expires.UnixMilli(), now.UnixMilli()}
	if list == nil {
		args = append(args, members, qtys)
	} else {
		args = append(args, list)
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make(map[int64]int64, len(members))
	for rows.Next() {
		var m, id int64
		if err := rows.Scan(&m, &id); err != nil {
			return nil, err
		}
		ids[m] = id
	}
	return ids, rows.Err()
}
