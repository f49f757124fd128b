package contentsale

import (
	"context"
	"regexp"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Settings are a shop's xpay credentials and refund rules. The AppKeys are
// write-only: reads show them masked.
type Settings struct {
	OfferID           string     `json:"offer_id" doc:"the xpay OfferID from the mini program's admin (虚拟支付 → 基本配置)"`
	AppKey            string     `json:"app_key" doc:"production AppKey; write the key to change it, \"\" keeps the stored one; read back masked"`
	SandboxAppKey     string     `json:"sandbox_app_key" doc:"sandbox AppKey (env 1); same rules as app_key"`
	Env               int        `json:"env" doc:"0 production, 1 sandbox: which environment orders are paid in"`
	RefundDays        int        `json:"refund_days" doc:"buyers may ask a refund within this many days of paying, 0–30 (0: no buyer refunds)"`
	RefundMaxConsumed int        `json:"refund_max_consumed" doc:"and only while they have used at most this percent of it, 0–100"`
	Configured        bool       `json:"configured" doc:"read-only: an OfferID and the AppKey of env are set"`
	UpdatedAt         *time.Time `json:"updated_at,omitempty"`
}

type storedSettings struct {
	Settings
	keys Keys
}

func (st storedSettings) ready() bool {
	return st.keys.OfferID != "" && st.appKey() != ""
}

func (st storedSettings) appKey() string {
	if st.Env == 1 {
		return st.keys.SandboxAppKey
	}
	return st.keys.AppKey
}

func (s *Service) storedSettings(ctx context.Context, q db.Querier, shopID int64) (storedSettings, error) {
	st := storedSettings{Settings: Settings{RefundDays: 3, RefundMaxConsumed: 20}}
	var key, sandboxKey string
	var updated int64
	err := q.QueryRow(ctx, `SELECT offer_id, app_key, sandbox_app_key, env, refund_days, refund_max_consumed, updated_at
		FROM content_sale_settings WHERE shop_id = ?`, shopID).Scan(&st.OfferID, &key, &sandboxKey, &st.Env,
		&st.RefundDays, &st.RefundMaxConsumed, &updated)
	if db.IsNoRows(err) {
		return st, nil
	}
	if err != nil {
		return st, errs.Wrap("load xpay settings", err)
	}
	at := time.UnixMilli(updated).UTC()
	st.UpdatedAt = &at
	st.keys.OfferID = st.OfferID
	if st.keys.AppKey, err = s.open(key); err != nil {
		return st, err
	}
	if st.keys.SandboxAppKey, err = s.open(sandboxKey); err != nil {
		return st, err
	}
	st.AppKey, st.SandboxAppKey = mask(st.keys.AppKey), mask(st.keys.SandboxAppKey)
	st.Configured = st.ready()
	return st, nil
}

func (s *Service) open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	plain, err := s.box.Open(sealed)
	return plain, errs.Wrap("open xpay key", err)
}

func (s *Service) seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	sealed, err := s.box.Seal(plain)
	return sealed, errs.Wrap("seal xpay key", err)
}

// mask shows the last 4 characters of a key ("" stays "").
func mask(secret string) string {
	switch {
	case secret == "":
		return ""
	case len(secret) <= 4:
		return "****"
	}
	return "****" + secret[len(secret)-4:]
}

// Settings returns the shop's xpay settings, keys masked.
func (s *Service) Settings(ctx context.Context, shopID int64) (Settings, error) {
	st, err := s.storedSettings(ctx, s.db, shopID)
	return st.Settings, err
}

var offerIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

// SaveSettings replaces the shop's settings; an empty key keeps the stored
// one.
func (s *Service) SaveSettings(ctx context.Context, shopID int64, in Settings) (Settings, error) {
	var v errs.Validator
	v.Check(in.OfferID == "" || offerIDPattern.MatchString(in.OfferID), "offer_id", "must be the OfferID: letters, digits, _ or -, up to 64")
	v.Check(len(in.AppKey) <= 128 && validKey(in.AppKey), "app_key", "must be the AppKey as shown by WeChat (up to 128 printable characters)")
	v.Check(len(in.SandboxAppKey) <= 128 && validKey(in.SandboxAppKey), "sandbox_app_key", "must be the sandbox AppKey (up to 128 printable characters)")
	v.Check(in.Env == 0 || in.Env == 1, "env", "must be 0 (production) or 1 (sandbox)")
	v.Check(in.RefundDays >= 0 && in.RefundDays <= 30, "refund_days", "must be 0 to 30")
	v.Check(in.RefundMaxConsumed >= 0 && in.RefundMaxConsumed <= 100, "refund_max_consumed", "must be 0 to 100")
	if err := v.Err(); err != nil {
		return Settings{}, err
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := s.storedSettings(ctx, tx, shopID)
		if err != nil {
			return err
		}
		key, sandboxKey := pick(in.AppKey, cur.keys.AppKey), pick(in.SandboxAppKey, cur.keys.SandboxAppKey)
		sealedKey, err := s.seal(key)
		if err != nil {
			return err
		}
		sealedSandbox, err := s.seal(sandboxKey)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO content_sale_settings (shop_id, offer_id, app_key, sandbox_app_key, env, refund_days, refund_max_consumed, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (shop_id) DO UPDATE SET offer_id = excluded.offer_id, app_key = excluded.app_key,
				sandbox_app_key = excluded.sandbox_app_key, env = excluded.env, refund_days = excluded.refund_days,
				refund_max_consumed = excluded.refund_max_consumed, updated_at = excluded.updated_at`,
			shopID, in.OfferID, sealedKey, sealedSandbox, in.Env, in.RefundDays, in.RefundMaxConsumed, s.now().UnixMilli())
		return errs.Wrap("save xpay settings", err)
	})
	if err != nil {
		return Settings{}, err
	}
	return s.Settings(ctx, shopID)
}

// pick keeps the stored key unless a new one is written (a masked key sent
// back unchanged keeps it too).
func pick(in, cur string) string {
	if in == "" || in == mask(cur) {
		return cur
	}
	return in
}

func validKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// Item is an xpay item (道具) registered in WeChat at a price: every price
// content is sold at needs one (the item id cannot change once registered).
type Item struct {
	ItemID    string    `json:"item_id" doc:"the item id registered in WeChat (道具 ID): letters, digits, _ or -, up to 64"`
	PriceFen  int64     `json:"price_fen" doc:"its registered price in fen; one item per price"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

var itemIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

// Items lists the shop's price tiers, cheapest first.
func (s *Service) Items(ctx context.Context, shopID int64) ([]Item, error) {
	return db.All(ctx, s.db, scanItem, `SELECT item_id, price_fen, name, created_at FROM xpay_items WHERE shop_id = ? ORDER BY price_fen`, shopID)
}

func scanItem(r db.Scanner) (Item, error) {
	var it Item
	var created int64
	err := r.Scan(&it.ItemID, &it.PriceFen, &it.Name, &created)
	it.CreatedAt = time.UnixMilli(created).UTC()
	return it, err
}

// AddItem records an item registered in WeChat.
func (s *Service) AddItem(ctx context.Context, shopID int64, in Item) (Item, error) {
	var v errs.Validator
	v.Check(itemIDPattern.MatchString(in.ItemID), "item_id", "must be letters, digits, _ or -, 1 to 64")
	v.Check(in.PriceFen > 0 && in.PriceFen <= 100_000_000, "price_fen", "must be 1 to 100000000 fen")
	n := len([]rune(in.Name))
	v.Check(n >= 1 && n <= 64, "name", "must be 1 to 64 characters")
	if err := v.Err(); err != nil {
		return Item{}, err
	}
	now := s.now()
	_, err := s.db.Exec(ctx, `INSERT INTO xpay_items (shop_id, item_id, price_fen, name, created_at) VALUES (?, ?, ?, ?, ?)`,
		shopID, in.ItemID, in.PriceFen, in.Name, now.UnixMilli())
	if db.IsUniqueViolation(err) {
		return Item{}, errs.E(errs.Conflict, "xpay_item_exists", "an item with this id or at this price is already recorded")
	}
	if err != nil {
		return Item{}, errs.Wrap("add xpay item", err)
	}
	in.CreatedAt = time.UnixMilli(now.UnixMilli()).UTC()
	return in, nil
}

// DeleteItem forgets an item no order has used.
func (s *Service) DeleteItem(ctx context.Context, shopID int64, itemID string) error {
	var used bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM content_orders WHERE shop_id = ? AND item_id = ?)`, shopID, itemID).Scan(&used)
	if err != nil {
		return errs.Wrap("check xpay item", err)
	}
	if used {
		return errs.E(errs.Conflict, "xpay_item_used", "orders were paid with this item; it stays on record")
	}
	err = db.ExpectOne(s.db.Exec(ctx, `DELETE FROM xpay_items WHERE shop_id = ? AND item_id = ?`, shopID, itemID))
	if db.IsNoRows(err) {
		return errs.E(errs.NotFound, "xpay_item_not_found", "no such item")
	}
	return errs.Wrap("delete xpay item", err)
}

// itemAt is the item registered at price.
func itemAt(ctx context.Context, q db.Querier, shopID, price int64) (string, error) {
	var id string
	err := q.QueryRow(ctx, `SELECT item_id FROM xpay_items WHERE shop_id = ? AND price_fen = ?`, shopID, price).Scan(&id)
	if db.IsNoRows(err) {
		return "", errs.E(errs.Conflict, "xpay_item_missing",
			"no xpay item is registered at ¥"+yuan(price)+": register one in WeChat and add it under 虚拟支付 items")
	}
	return id, errs.Wrap("find xpay item", err)
}

func yuan(fen int64) string {
	s := strconv.FormatInt(fen/100, 10)
	if c := fen % 100; c != 0 {
		s += "." + strconv.FormatInt(c/10, 10)
		if c%10 != 0 {
			s += strconv.FormatInt(c%10, 10)
		}
	}
	return s
}

// Trial is a plan's free trial: N days, once per member.
type Trial struct {
	PlanID int64 `json:"plan_id"`
	Days   int   `json:"days" doc:"1–90; 0 in a PUT stops offering the trial"`
}

// Trials lists the plans offering a trial.
func (s *Service) Trials(ctx context.Context, shopID int64) ([]Trial, error) {
	return db.All(ctx, s.db, func(r db.Scanner) (Trial, error) {
		var t Trial
		return t, r.Scan(&t.PlanID, &t.Days)
	}, `SELECT plan_id, days FROM content_trials WHERE shop_id = ? ORDER BY plan_id`, shopID)
}

// SetTrial offers (days > 0) or stops (0) a trial of a plan.
func (s *Service) SetTrial(ctx context.Context, shopID int64, in Trial) (Trial, error) {
	var v errs.Validator
	v.Check(in.PlanID > 0, "plan_id", "must be a plan id")
	v.Check(in.Days >= 0 && in.Days <= 90, "days", "must be 0 to 90")
	if err := v.Err(); err != nil {
		return Trial{}, err
	}
	if in.Days == 0 {
		_, err := s.db.Exec(ctx, `DELETE FROM content_trials WHERE shop_id = ? AND plan_id = ?`, shopID, in.PlanID)
		return in, errs.Wrap("stop trial", err)
	}
	if _, err := s.offers.Offer(ctx, shopID, 0, KindPlan, in.PlanID); err != nil {
		return Trial{}, err
	}
	_, err := s.db.Exec(ctx, `INSERT INTO content_trials (shop_id, plan_id, days, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (shop_id, plan_id) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at`,
		shopID, in.PlanID, in.Days, s.now().UnixMilli())
	return in, errs.Wrap("set trial", err)
}
