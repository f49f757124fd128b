package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/kaidian/kaidian/internal/address"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/shop"
)

// shopApps gives the member service a shop's mini-program credentials.
type shopApps struct{ shops *shop.Service }

func (a shopApps) App(ctx context.Context, shopID int64) (wechat.App, error) {
	sh, err := a.shops.Enabled(ctx, shopID)
	if err != nil {
		return wechat.App{}, err
	}
	sec, err := a.shops.Secrets(ctx, shopID)
	if err != nil {
		return wechat.App{}, err
	}
	if sec.AppSecret == "" {
		return wechat.App{}, errs.E(errs.Unavailable, "app_secret_missing", "the shop has no mini-program secret configured")
	}
	return wechat.App{AppID: sh.AppID, Secret: sec.AppSecret}, nil
}

// wechatTokens keeps access tokens in the database, so every server process
// uses the same token instead of each rotating it away from the others.
type wechatTokens struct{ db *db.DB }

func (t *wechatTokens) Get(ctx context.Context, appid string) (wechat.Token, bool, error) {
	var value string
	var expires int64
	err := t.db.QueryRow(ctx, `SELECT token, expires_at FROM wechat_tokens WHERE appid = ?`, appid).Scan(&value, &expires)
	if db.IsNoRows(err) {
		return wechat.Token{}, false, nil
	}
	if err != nil {
		return wechat.Token{}, false, err
	}
	return wechat.Token{Value: value, ExpiresAt: time.UnixMilli(expires)}, true, nil
}

func (t *wechatTokens) Put(ctx context.Context, appid string, tok wechat.Token) error {
	_, err := t.db.Exec(ctx, `INSERT INTO wechat_tokens (appid, token, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (appid) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at`,
		appid, tok.Value, tok.ExpiresAt.UnixMilli())
	return err
}

func (t *wechatTokens) Delete(ctx context.Context, appid string) error {
	_, err := t.db.Exec(ctx, `DELETE FROM wechat_tokens WHERE appid = ?`, appid)
	return err
}

func mkdirData(dir string) error { return os.MkdirAll(dir, 0o700) }

// mediaRefs tells media whether a product (in the bin too) or an order
// line still uses a file: its key appears in the product's images or the
// line's snapshot image.
type mediaRefs struct{ db *db.DB }

func (m mediaRefs) MediaReferenced(ctx context.Context, shopID int64, key string) (bool, error) {
	like := "%" + key + "%"
	var n int
	err := m.db.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM spus WHERE shop_id = ? AND images LIKE ?) +
		(SELECT COUNT(*) FROM order_lines WHERE shop_id = ? AND image LIKE ?)`, shopID, like, shopID, like).Scan(&n)
	return n > 0, err
}

// mediaChecker sends a shop's images to WeChat's image check when the
// shop has its mini-program secret and message push set (without the
// push, the verdict could never arrive). WeChat wants the openid of a
// buyer active in the last two hours: the shop's most recent one.
type mediaChecker struct {
	db     *db.DB
	shops  *shop.Service
	wechat *wechat.Client
}

func (m mediaChecker) Enabled(ctx context.Context, shopID int64) (bool, error) {
	sec, err := m.shops.Secrets(ctx, shopID)
	if err != nil {
		return false, err
	}
	return sec.AppSecret != "" && sec.PushToken != "", nil
}

func (m mediaChecker) CheckImage(ctx context.Context, shopID int64, url string) (string, error) {
	app, err := shopApps{m.shops}.App(ctx, shopID)
	if err != nil {
		return "", err
	}
	var openid string
	err = m.db.QueryRow(ctx, `SELECT openid FROM members WHERE shop_id = ? ORDER BY updated_at DESC, id DESC LIMIT 1`, shopID).Scan(&openid)
	if db.IsNoRows(err) {
		return "", errs.E(errs.Unavailable, "no_recent_buyer", "WeChat's image check needs a buyer who used the mini program recently")
	}
	if err != nil {
		return "", err
	}
	return m.wechat.MediaCheckAsync(ctx, app, url, openid, 1)
}

// codeCache keeps mini-program codes (sharecode) in the blob store, so a
// code is asked of WeChat once, not once per process or per restart.
type codeCache struct{ store blob.Store }

// maxCachedCode bounds what is read back: WeChat's codes are tens of KB.
const maxCachedCode = 4 << 20

func (c codeCache) Load(ctx context.Context, key string) ([]byte, bool, error) {
	rc, _, err := c.store.Get(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer rc.Close()
	png, err := io.ReadAll(io.LimitReader(rc, maxCachedCode))
	return png, err == nil, err
}

func (c codeCache) Store(ctx context.Context, key string, png []byte) error {
	return c.store.Put(ctx, key, "image/png", bytes.NewReader(png), int64(len(png)))
}

// addressBook gives checkout a buyer's saved address as an order keeps it.
type addressBook struct{ book *address.Service }

func (b addressBook) Snapshot(ctx context.Context, shopID, memberID, id int64) (order.Address, error) {
	a, err := b.book.Get(ctx, shopID, memberID, id)
	if err != nil {
		return order.Address{}, err
	}
	return order.Address{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.County, Detail: a.Detail,
		ProvinceCode: a.ProvinceCode, CityCode: a.CityCode, DistrictCode: a.CountyCode, PostalCode: a.PostalCode}, nil
}

// checkinRewards gives check-in rewards through the points ledger
// (points.Service.Earn, in the check-in's transaction); with earn unset a
// check-in records what it earned and gives nothing.
type checkinRewards struct {
	earn func(ctx context.Context, tx *db.Tx, shopID, memberID, points int64, reason, sourceID, key string) error
}

func (r checkinRewards) Earn(ctx context.Context, tx *db.Tx, shopID, memberID, points int64, reason, sourceID, key string) error {
	if r.earn == nil {
		return nil
	}
	return r.earn(ctx, tx, shopID, memberID, points, reason, sourceID, key)
}
