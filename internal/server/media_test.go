package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/wechat/sandbox"
)

// testPNG is a small picture; seed makes its bytes distinct.
func testPNG(t testing.TB, seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), uint8(seed), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload sends a file to POST /admin/api/v1/media as multipart/form-data.
func (e *env) upload(c caller, kind string, file []byte) response {
	e.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if kind != "" {
		_ = w.WriteField("kind", kind)
	}
	fw, _ := w.CreateFormFile("file", "photo.jpg")
	_, _ = fw.Write(file)
	_ = w.Close()
	return e.send(c, "POST", "/admin/api/v1/media", &b, w.FormDataContentType())
}

type uploaded struct {
	ID         int64    `json:"id"`
	URL        string   `json:"url"`
	ThumbURLs  []string `json:"thumb_urls"`
	SHA256     string   `json:"sha256"`
	Moderation string   `json:"moderation"`
}

func (e *env) mustUpload(c caller, file []byte) uploaded {
	e.t.Helper()
	r := e.upload(c, "product", file)
	if r.status != 201 {
		e.t.Fatalf("upload: %d %s", r.status, r.body)
	}
	var m uploaded
	_ = json.Unmarshal(r.body, &m)
	return m
}

// getFile fetches a public file; /media/{key...} spans slashes, which an
// OpenAPI path parameter cannot, so these answers skip the validator.
func (e *env) getFile(url string) response {
	e.t.Helper()
	seen := e.seen
	e.seen = nil
	defer func() { e.seen = seen }()
	return e.do(caller{}, "GET", strings.TrimPrefix(url, e.ts.URL), nil)
}

// TestProductImagesOutliveProductsAndOrdersKeepTheirs uploads a picture,
// puts it on a product, sells it, takes it off the product: the order's
// snapshot still uses it, so it cannot be deleted, and deleting the
// product leaves it served.
func TestProductImagesOutliveProductsAndOrdersKeepTheirs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		v := newDocValidator(t, e)
		e.seen = v.check
		defer v.finish([]string{"POST /admin/api/v1/media", "GET /admin/api/v1/media", "DELETE /admin/api/v1/media/{id}"})
		m := e.mustUpload(a.owner, testPNG(t, 1))
		if !strings.HasPrefix(m.URL, e.ts.URL+"/media/shop/") || m.Moderation != "unchecked" {
			t.Fatalf("upload: %+v", m)
		}
		path := strings.TrimPrefix(m.URL, e.ts.URL)
		if r := e.getFile(path); r.status != 200 || r.header.Get("Content-Type") != "image/png" ||
			!strings.Contains(r.header.Get("Cache-Control"), "immutable") || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s: %d %v", path, r.status, r.header)
		}
		body := productBody(a.categoryID, "甲带图商品", true)
		body["images"] = []string{m.URL}
		p := e.must(a.owner, 201, "POST", "/admin/api/v1/products", body)
		productID := int64(p["id"].(float64))
		if r := e.do(a.owner, "DELETE", fmt.Sprintf("/admin/api/v1/media/%d", m.ID), nil); r.status != 409 || r.code() != "media_in_use" {
			t.Fatalf("delete media of a product: %d %s", r.status, r.body)
		}
		skuID := int64(p["skus"].([]any)[0].(map[string]any)["id"].(float64))
		orderID := e.buyNow(a.member, skuID, 1)
		body["images"] = []string{"https://img.example.com/other.jpg"}
		e.must(a.owner, 200, "PUT", fmt.Sprintf("/admin/api/v1/products/%d", productID), body)
		if r := e.do(a.owner, "DELETE", fmt.Sprintf("/admin/api/v1/media/%d", m.ID), nil); r.status != 409 || r.code() != "media_in_use" {
			t.Fatalf("delete media of an order's snapshot: %d %s", r.status, r.body)
		}
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/products/%d", productID), nil)
		order := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/orders/%d", orderID), nil)
		if !strings.Contains(fmt.Sprint(order), m.URL) {
			t.Fatalf("the order lost its picture: %v", order)
		}
		if r := e.getFile(path); r.status != 200 {
			t.Fatalf("the picture of a deleted product: %d", r.status)
		}
		// A picture nothing uses can go.
		spare := e.mustUpload(a.owner, testPNG(t, 2))
		list := e.must(a.owner, 200, "GET", "/admin/api/v1/media", nil)
		if items := list["items"].([]any); len(items) != 2 {
			t.Fatalf("list: %v", list)
		}
		e.must(a.owner, 204, "DELETE", fmt.Sprintf("/admin/api/v1/media/%d", spare.ID), nil)
		if r := e.getFile(spare.URL); r.status != 404 || r.code() != "media_not_found" {
			t.Fatalf("a deleted picture: %d %s", r.status, r.body)
		}
		// Bad uploads, answered as the document says.
		if r := e.upload(a.owner, "product", []byte("just text in a file named photo.jpg")); r.status != 415 || r.code() != "unsupported_file_type" {
			t.Fatalf("text as a picture: %d %s", r.status, r.body)
		}
		if r := e.upload(a.owner, "", nil); r.status != 400 || r.code() != "empty_file" {
			t.Fatalf("empty file: %d %s", r.status, r.body)
		}
		if r := e.upload(a.owner, "product", make([]byte, 11<<20)); r.status != 413 {
			t.Fatalf("11 MiB: %d %s", r.status, r.body)
		}
		if r := e.do(a.owner, "POST", "/admin/api/v1/media", map[string]string{"file": "x"}); r.status != 415 || r.code() != "unsupported_media_type" {
			t.Fatalf("JSON upload: %d %s", r.status, r.body)
		}
	})
}

// TestWeChatImageCheckHidesRiskyImages: with the message push set, a new
// image is sent to media_check_async (with a buyer's openid); the
// sandbox's push of the verdict approves one image and rejects the other,
// which is no longer served.
func TestWeChatImageCheckHidesRiskyImages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		cfg := e.setPush(a, "mediaToken1", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
		good := e.mustUpload(a.owner, testPNG(t, 10))
		risky := testPNG(t, 11)
		sum := sha256.Sum256(risky)
		bad := e.mustUpload(a.owner, risky)
		if good.Moderation != "pending" || bad.Moderation != "pending" {
			t.Fatalf("moderation: %s %s", good.Moderation, bad.Moderation)
		}
		e.runDueJobs("media_check")
		checks := e.sandbox.MediaChecks(a.appid)
		if len(checks) != 2 || checks[0].OpenID != "openid-甲" || checks[0].MediaURL != good.URL {
			t.Fatalf("checks: %+v", checks)
		}
		e.sandbox.MarkMediaRisky(hex.EncodeToString(sum[:]))
		e.sandbox.SetPushTarget(a.appid, sandbox.PushTarget{URL: fmt.Sprintf("%s/webhooks/wechat/%d/push", e.ts.URL, a.id),
			Token: cfg.Token, EncodingAESKey: cfg.EncodingAESKey})
		if n, err := e.sandbox.DeliverMediaChecks(a.appid); err != nil || n != 2 {
			t.Fatalf("deliver: %d %v", n, err)
		}
		states := map[int64]string{}
		var list struct{ Items []uploaded }
		_ = json.Unmarshal(e.do(a.owner, "GET", "/admin/api/v1/media", nil).body, &list)
		for _, m := range list.Items {
			states[m.ID] = m.Moderation
		}
		if states[good.ID] != "approved" || states[bad.ID] != "rejected" {
			t.Fatalf("states after the verdicts: %v", states)
		}
		for _, u := range append([]string{bad.URL}, bad.ThumbURLs...) {
			if r := e.getFile(u); r.status != 404 {
				t.Errorf("rejected %s: %d", u, r.status)
			}
		}
		if r := e.getFile(good.URL); r.status != 200 {
			t.Fatalf("approved image: %d", r.status)
		}
	})
}
