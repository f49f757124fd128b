package promotion

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// TimedDiscount is a time-limited price (限时折扣) of one SKU.
type TimedDiscount struct {
	ID        int64     `json:"id"`
	SKUID     int64     `json:"sku_id"`
	Title     string    `json:"title"`
	Price     int64     `json:"price" doc:"fen, while it runs"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedAt time.Time `json:"created_at"`
}

// NewTimedDiscount is what staff send.
type NewTimedDiscount struct {
	SKUID    int64     `json:"sku_id"`
	Title    string    `json:"title"`
	Price    int64     `json:"price" doc:"fen"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// CreateTimedDiscount schedules a time-limited price; it must be below the
// SKU's price.
func (s *Service) CreateTimedDiscount(ctx context.Context, shopID int64, in NewTimedDiscount) (TimedDiscount, error) {
	in.Title = strings.TrimSpace(in.Title)
	var v errs.Validator
	v.Check(in.SKUID > 0, "sku_id", "must be a SKU id")
	v.Check(len([]rune(in.Title)) >= 1 && len([]rune(in.Title)) <= 60, "title", "must be 1 to 60 characters")
	v.Check(in.Price >= 0, "price", "must not be negative")
	v.Check(!in.StartsAt.IsZero() && in.EndsAt.After(in.StartsAt) && in.EndsAt.Sub(in.StartsAt) <= 366*day, "ends_at", "must be after starts_at, within a year")
	if err := v.Err(); err != nil {
		return TimedDiscount{}, err
	}
	var list int64
	err := s.db.QueryRow(ctx, `SELECT price FROM skus WHERE id = ? AND shop_id = ? AND deleted_at IS NULL`, in.SKUID, shopID).Scan(&list)
	if db.IsNoRows(err) {
		return TimedDiscount{}, errs.Field("sku_id", "sku_not_found", "no such SKU in this shop")
	}
	if err != nil {
		return TimedDiscount{}, errs.Wrap("timed discount", err)
	}
	if in.Price >= list {
		return TimedDiscount{}, errs.Field("price", "not_a_discount", "must be below the SKU's price")
	}
	now := s.now()
	var id int64
	err = s.db.QueryRow(ctx, `INSERT INTO timed_discounts (shop_id, sku_id, title, price, starts_at, ends_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, shopID, in.SKUID, in.Title, in.Price, in.StartsAt.UnixMilli(), in.EndsAt.UnixMilli(),
		now.UnixMilli()).Scan(&id)
	if err != nil {
		return TimedDiscount{}, errs.Wrap("timed discount", err)
	}
	s.timed.forget(shopID)
	return TimedDiscount{ID: id, SKUID: in.SKUID, Title: in.Title, Price: in.Price, StartsAt: ms(in.StartsAt), EndsAt: ms(in.EndsAt), CreatedAt: ms(now)}, nil
}

const timedColumns = `id, sku_id, title, price, starts_at, ends_at, created_at`

func scanTimed(row db.Scanner) (TimedDiscount, error) {
	var d TimedDiscount
	var starts, ends, created int64
	err := row.Scan(&d.ID, &d.SKUID, &d.Title, &d.Price, &starts, &ends, &created)
	d.StartsAt, d.EndsAt, d.CreatedAt = time.UnixMilli(starts).UTC(), time.UnixMilli(ends).UTC(), time.UnixMilli(created).UTC()
	return d, err
}

// TimedDiscounts returns every time-limited price of the shop that has not
// ended, for checkout's prices (timedCache): not a page and not capped, or a
// discount past the cut would silently not apply. A shop has few at a time.
func (s *Service) TimedDiscounts(ctx context.Context, shopID int64) ([]TimedDiscount, error) {
	out, err := db.All(ctx, s.db, scanTimed, `SELECT `+timedColumns+` FROM timed_discounts
		WHERE shop_id = ? AND ends_at > ? ORDER BY starts_at, id`, shopID, s.now().UnixMilli())
	return out, errs.Wrap("timed discounts", err)
}

// PromoPrices returns the lowest running time-limited price of each SKU
// that has one. The shop's discounts are cached for a second, so a
// checkout in a shop without discounts costs no query (a new discount
// shows on other instances within that second).
func (s *Service) PromoPrices(ctx context.Context, shopID int64, skuIDs []int64, now time.Time) (map[int64]int64, error) {
	list, err := s.timed.get(ctx, s, shopID, now)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	out := map[int64]int64{}
	for _, d := range list {
		if now.Before(d.StartsAt) || !now.Before(d.EndsAt) {
			continue
		}
		for _, id := range skuIDs {
			if d.SKUID == id {
				if p, ok := out[id]; !ok || d.Price < p {
					out[id] = d.Price
				}
			}
		}
	}
	return out, nil
}

// timedCache keeps each shop's unended discounts for a second.
type timedCache struct {
	mu    sync.Mutex
	shops map[int64]timedEntry
}

type timedEntry struct {
	at   time.Time
	list []TimedDiscount
}

func (c *timedCache) get(ctx context.Context, s *Service, shopID int64, now time.Time) ([]TimedDiscount, error) {
	c.mu.Lock()
	e, ok := c.shops[shopID]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < time.Second && now.Sub(e.at) >= 0 {
		return e.list, nil
	}
	list, err := s.TimedDiscounts(ctx, shopID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.shops == nil {
		c.shops = map[int64]timedEntry{}
	}
	c.shops[shopID] = timedEntry{at: now, list: list}
	c.mu.Unlock()
	return list, nil
}

func (c *timedCache) forget(shopID int64) {
	c.mu.Lock()
	delete(c.shops, shopID)
	c.mu.Unlock()
}
