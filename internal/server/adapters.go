package server

import (
	"context"
	"os"
	"time"

	"github.com/kaidian/kaidian/internal/address"
	"github.com/kaidian/kaidian/internal/order"
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
