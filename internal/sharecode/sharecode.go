// Package sharecode makes the mini-program codes (小程序码) buyers share:
// a product's code, which carries the sharing promoter so a scan binds the
// visitor to them, and a promoter's poster code. Codes come from WeChat's
// getwxacodeunlimit and are kept in a cache (the blob store), so a code is
// asked of WeChat once per shop, scene, page and version.
package sharecode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// Apps gives a shop's mini-program credentials.
type Apps interface {
	App(ctx context.Context, shopID int64) (wechat.App, error)
}

// Drawer makes codes (*wechat.Client).
type Drawer interface {
	UnlimitedCode(ctx context.Context, app wechat.App, req wechat.UnlimitedCode) ([]byte, error)
}

// Products says whether a product is on the shelf (catalog).
type Products interface {
	OnShelf(ctx context.Context, shopID, productID int64) error
}

// Promoters gives a buyer's promoter id, 0 when they are none (promotion).
type Promoters interface {
	PromoterID(ctx context.Context, shopID, memberID int64) (int64, error)
}

// Cache keeps drawn codes (the blob store); a nil Cache draws every time.
type Cache interface {
	Load(ctx context.Context, key string) ([]byte, bool, error)
	Store(ctx context.Context, key string, png []byte) error
}

// Service makes codes.
type Service struct {
	apps      Apps
	drawer    Drawer
	products  Products
	promoters Promoters
	cache     Cache
}

// NewService returns the service.
func NewService(apps Apps, drawer Drawer, products Products, promoters Promoters, cache Cache) *Service {
	return &Service{apps: apps, drawer: drawer, products: products, promoters: promoters, cache: cache}
}

// Default pages the codes open; a request may name another.
const (
	ProductPage  = "pages/goods/detail"
	PromoterPage = "pages/index/index"
)

// Request is where a code leads and which build of the mini program.
type Request struct {
	Page       string // a page path; "" = the kind's default
	EnvVersion string // release (default), trial or develop
	Width      int    // pixels, 280 to 1280; 0 = 430
}

var pagePath = regexp.MustCompile(`^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+){0,9}$`)

func (r *Request) normalize(defaultPage string) error {
	if r.Page == "" {
		r.Page = defaultPage
	}
	if r.EnvVersion == "" {
		r.EnvVersion = "release"
	}
	var v errs.Validator
	v.Check(len(r.Page) <= 128 && pagePath.MatchString(r.Page), "page", "must be a page path such as pages/goods/detail (no leading slash)")
	v.Check(r.EnvVersion == "release" || r.EnvVersion == "trial" || r.EnvVersion == "develop", "env_version", "must be release, trial or develop")
	v.Check(r.Width == 0 || r.Width >= 280 && r.Width <= 1280, "width", "must be 280 to 1280")
	return v.Err()
}

// ProductScene is what a product's code carries: the product and, when the
// sharer is a promoter, who shared it ("g=12&p=34"); the mini program reads
// it from the scene option of its page and binds the visitor.
func ProductScene(productID, promoterID int64) string {
	s := "g=" + strconv.FormatInt(productID, 10)
	if promoterID > 0 {
		s += "&p=" + strconv.FormatInt(promoterID, 10)
	}
	return s
}

// PromoterScene is what a promoter's poster code carries ("p=34").
func PromoterScene(promoterID int64) string { return "p=" + strconv.FormatInt(promoterID, 10) }

// ProductCode is product's code as memberID shares it (memberID 0: staff,
// for a poster without a promoter).
func (s *Service) ProductCode(ctx context.Context, shopID, productID, memberID int64, r Request) ([]byte, error) {
	if err := r.normalize(ProductPage); err != nil {
		return nil, err
	}
	if err := s.products.OnShelf(ctx, shopID, productID); err != nil {
		return nil, err
	}
	var promoter int64
	if memberID != 0 {
		var err error
		if promoter, err = s.promoters.PromoterID(ctx, shopID, memberID); err != nil {
			return nil, err
		}
	}
	return s.code(ctx, shopID, ProductScene(productID, promoter), r)
}

var errNotPromoter = errs.E(errs.NotFound, "not_a_promoter", "you are not a promoter of this shop")

// PromoterCode is the poster code of memberID's promoter account.
func (s *Service) PromoterCode(ctx context.Context, shopID, memberID int64, r Request) ([]byte, error) {
	if err := r.normalize(PromoterPage); err != nil {
		return nil, err
	}
	promoter, err := s.promoters.PromoterID(ctx, shopID, memberID)
	if err != nil {
		return nil, err
	}
	if promoter == 0 {
		return nil, errNotPromoter
	}
	return s.code(ctx, shopID, PromoterScene(promoter), r)
}

// code returns the code for scene from the cache, or draws and caches it.
func (s *Service) code(ctx context.Context, shopID int64, scene string, r Request) ([]byte, error) {
	if !wechat.ValidScene(scene) {
		return nil, fmt.Errorf("sharecode: scene %q is not valid for WeChat", scene)
	}
	key := cacheKey(shopID, scene, r)
	if s.cache != nil {
		if png, ok, err := s.cache.Load(ctx, key); err != nil || ok {
			return png, err
		}
	}
	app, err := s.apps.App(ctx, shopID)
	if err != nil {
		return nil, err
	}
	checkPath := r.EnvVersion == "release" // unpublished pages exist only in trial and develop builds
	png, err := s.drawer.UnlimitedCode(ctx, app, wechat.UnlimitedCode{Scene: scene, Page: r.Page,
		CheckPath: &checkPath, EnvVersion: r.EnvVersion, Width: r.Width})
	if err != nil {
		return nil, codeError(err)
	}
	if s.cache != nil {
		if err := s.cache.Store(ctx, key, png); err != nil {
			return nil, err
		}
	}
	return png, nil
}

// codeError turns WeChat's refusals into answers the caller can act on.
func codeError(err error) error {
	var apiErr *wechat.APIError
	if !errors.As(err, &apiErr) {
		return &errs.Error{Kind: errs.Unavailable, Code: "wechat_unavailable", Message: "WeChat did not answer; try again", Err: err}
	}
	switch apiErr.Code {
	case 41030:
		return errs.E(errs.Invalid, "page_not_published", "WeChat does not know this page in the released mini program (use env_version=trial or develop for unpublished pages)")
	case 45009:
		return errs.E(errs.Unavailable, "wechat_quota", "the mini program's daily quota of codes is used up")
	}
	return &errs.Error{Kind: errs.Unavailable, Code: "wechat_error", Message: "WeChat refused to make the code", Err: err}
}

// cacheKey names a code in the blob store.
func cacheKey(shopID int64, scene string, r Request) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%s|%d", scene, r.Page, r.EnvVersion, r.Width)))
	return fmt.Sprintf("codes/%d/%s.png", shopID, hex.EncodeToString(sum[:16]))
}
