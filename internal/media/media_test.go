package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/kaidian/kaidian/internal/media"
	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

func key(url string) string { return url[strings.Index(url, "/media/")+len("/media/"):] }

func (e *env) blob(url string) []byte {
	e.t.Helper()
	rc, _, err := e.store.Get(e.ctx, key(url))
	if err != nil {
		e.t.Fatalf("get %s: %v", url, err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func TestJPEGIsUprightWithoutMetadataAndHasThumbnails(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, nil)
		shopID := e.shop()
		// 1000×400 landscape pixels that the camera says to turn 90° clockwise (orientation 6).
		orig := withEXIF(jpegBytes(t, picture(1000, 400)), 6, "GPS 31.2304N 121.4737E")
		m, err := e.svc.Upload(e.ctx, shopID, 7, media.KindProduct, orig)
		if err != nil {
			t.Fatal(err)
		}
		if m.Width != 400 || m.Height != 1000 || m.ContentType != "image/jpeg" || m.SHA256 != sum(orig) || m.CreatedBy != 7 {
			t.Fatalf("media: %+v", m)
		}
		want := "https://shop.example.com/media/shop/" + itoa(shopID) + "/" + sum(orig) + ".jpg"
		if m.URL != want || len(m.ThumbURLs) != 2 || m.Moderation != media.Unchecked {
			t.Fatalf("urls %q %v (want %q), moderation %s", m.URL, m.ThumbURLs, want, m.Moderation)
		}
		stored := e.blob(m.URL)
		if bytes.Contains(stored, []byte("GPS 31.2304N")) || bytes.Contains(stored, []byte("Exif\x00\x00")) {
			t.Fatal("the stored JPEG still carries the EXIF segment")
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(stored))
		if err != nil || cfg.Width != 400 || cfg.Height != 1000 {
			t.Fatalf("stored image %dx%d %v, want 400x1000 (orientation applied)", cfg.Width, cfg.Height, err)
		}
		for i, w := range []int{200, 400} { // the 750 thumbnail of a 400-wide image stays 400 wide
			th, err := jpeg.DecodeConfig(bytes.NewReader(e.blob(m.ThumbURLs[i])))
			if err != nil || th.Width != w || th.Height != w*1000/400 {
				t.Errorf("thumbnail %d: %dx%d %v", i, th.Width, th.Height, err)
			}
		}
		again, err := e.svc.Upload(e.ctx, shopID, 8, media.KindBanner, orig)
		if err != nil || again.ID != m.ID || again.URL != m.URL {
			t.Fatalf("the same bytes again: %+v %v, want item %d", again, err, m.ID)
		}
		if list, _ := e.svc.List(e.ctx, shopID, "", 0, 20); len(list) != 1 {
			t.Fatalf("the same bytes stored %d times", len(list))
		}
	})
}

func TestPNGWebPAndGIFLoseTheirMetadata(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, nil)
		shopID := e.shop()
		p, err := e.svc.Upload(e.ctx, shopID, 1, media.KindBanner, withPNGText(pngBytes(t, picture(300, 200)), "Comment", "secret-png-note"))
		if err != nil {
			t.Fatal(err)
		}
		if b := e.blob(p.URL); bytes.Contains(b, []byte("secret-png-note")) || !strings.HasSuffix(p.URL, ".png") || p.Width != 300 {
			t.Fatalf("png: %+v, note kept: %v", p, bytes.Contains(b, []byte("secret-png-note")))
		}
		w, err := e.svc.Upload(e.ctx, shopID, 1, media.KindCover, webpWithMetadata("secret-webp-note"))
		if err != nil {
			t.Fatal(err)
		}
		b := e.blob(w.URL)
		if bytes.Contains(b, []byte("secret-webp-note")) || bytes.Contains(b, []byte("EXIF")) || bytes.Contains(b, []byte("XMP ")) {
			t.Fatalf("webp keeps its metadata: %q", b)
		}
		if flags := b[20]; flags&(0x08|0x04) != 0 || w.ContentType != "image/webp" || binary.LittleEndian.Uint32(b[4:8]) != uint32(len(b)-8) {
			t.Fatalf("webp header: flags %x, size field %d for %d bytes", flags, binary.LittleEndian.Uint32(b[4:8]), len(b))
		}
		orig := gifBytes(t, 64, 32, 3)
		g, err := e.svc.Upload(e.ctx, shopID, 1, media.KindProduct, orig)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(e.blob(g.URL), orig) || g.Width != 64 || len(g.ThumbURLs) != 2 {
			t.Fatalf("gif: %+v", g)
		}
	})
}

// pngWithSize rewrites a PNG's IHDR to claim other dimensions: a few
// hundred bytes that would decode into gigabytes.
func pngWithSize(data []byte, w, h uint32) []byte {
	out := append([]byte(nil), data...)
	binary.BigEndian.PutUint32(out[16:20], w)
	binary.BigEndian.PutUint32(out[20:24], h)
	binary.BigEndian.PutUint32(out[29:33], crc32.ChecksumIEEE(out[12:29]))
	return out
}

func TestBadFilesAreRefusedWithStableCodes(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, nil)
		shopID := e.shop()
		small := pngBytes(t, picture(8, 8))
		cases := []struct {
			name string
			kind media.Kind
			data []byte
			code string
		}{
			{"text named .jpg", media.KindProduct, []byte("this is not a picture at all, just text"), "unsupported_file_type"},
			{"html", media.KindProduct, []byte("<html><script>alert(1)</script></html>"), "unsupported_file_type"},
			{"empty", media.KindProduct, nil, "empty_file"},
			{"pixel bomb", media.KindProduct, pngWithSize(small, 100_000, 100_000), "image_too_many_pixels"},
			{"wide bomb", media.KindProduct, pngWithSize(small, 1<<30, 1), "image_too_many_pixels"},
			{"gif with too many frames", media.KindProduct, gifBytes(t, 4, 4, media.MaxGIFFrames+1), "image_too_many_pixels"},
			{"truncated png", media.KindProduct, small[:40], "corrupt_image"},
			{"image as attachment", media.KindAttachment, small, "unsupported_file_type"},
			{"binary attachment", media.KindAttachment, []byte{0x7f, 'E', 'L', 'F', 0, 1, 2, 3}, "unsupported_file_type"},
			{"over 10 MiB", media.KindProduct, make([]byte, media.MaxBytes+1), "file_too_large"},
		}
		for _, c := range cases {
			_, err := e.svc.Upload(e.ctx, shopID, 1, c.kind, c.data)
			if !errs.Is(err, c.code) {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		if list, _ := e.svc.List(e.ctx, shopID, "", 0, 20); len(list) != 0 {
			t.Fatalf("refused files were kept: %+v", list)
		}
	})
}

func TestAttachmentsAreStoredAsTheyAre(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, nil)
		shopID := e.shop()
		pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
		m, err := e.svc.Upload(e.ctx, shopID, 1, media.KindAttachment, pdf)
		if err != nil {
			t.Fatal(err)
		}
		if m.ContentType != "application/pdf" || !strings.HasSuffix(m.URL, ".pdf") || len(m.ThumbURLs) != 0 || !bytes.Equal(e.blob(m.URL), pdf) {
			t.Fatalf("pdf: %+v", m)
		}
		txt, err := e.svc.Upload(e.ctx, shopID, 1, media.KindAttachment, []byte("尺码表：S M L\n"))
		if err != nil || txt.ContentType != "text/plain; charset=utf-8" {
			t.Fatalf("text: %+v %v", txt, err)
		}
		f, err := e.svc.Lookup(e.ctx, key(m.URL))
		if err != nil || !f.Attachment || f.ContentType != "application/pdf" {
			t.Fatalf("lookup: %+v %v", f, err)
		}
	})
}

func TestDeleteKeepsWhatIsUsedAndShopsApart(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, nil)
		a, b := e.shop(), e.shop()
		m, err := e.svc.Upload(e.ctx, a, 1, media.KindProduct, jpegBytes(t, picture(64, 64)))
		if err != nil {
			t.Fatal(err)
		}
		// Shop B sees nothing of A's and cannot delete it.
		if list, _ := e.svc.List(e.ctx, b, "", 0, 20); len(list) != 0 {
			t.Fatalf("shop B lists A's media: %+v", list)
		}
		wantCode(t, e.svc.Delete(e.ctx, b, m.ID), "media_not_found")
		if _, err := e.svc.Get(e.ctx, b, m.ID); !errs.Is(err, "media_not_found") {
			t.Fatalf("shop B reads A's media: %v", err)
		}
		// The same bytes uploaded by B are B's own item under B's key.
		mb, err := e.svc.Upload(e.ctx, b, 2, media.KindProduct, jpegBytes(t, picture(64, 64)))
		if err != nil || mb.ID == m.ID || !strings.Contains(mb.URL, "/shop/"+itoa(b)+"/") {
			t.Fatalf("B's upload: %+v %v", mb, err)
		}
		// Used by a product (or an order line): 409, nothing removed.
		e.refs.use(key(m.ThumbURLs[0]), true)
		wantCode(t, e.svc.Delete(e.ctx, a, m.ID), "media_in_use")
		if ok, _ := e.store.Exists(e.ctx, key(m.URL)); !ok {
			t.Fatal("a refused delete removed the file")
		}
		e.refs.use(key(m.ThumbURLs[0]), false)
		if err := e.svc.Delete(e.ctx, a, m.ID); err != nil {
			t.Fatal(err)
		}
		for _, u := range append([]string{m.URL}, m.ThumbURLs...) {
			if ok, _ := e.store.Exists(e.ctx, key(u)); ok {
				t.Errorf("%s left after delete", u)
			}
		}
		if _, err := e.svc.Lookup(e.ctx, key(m.URL)); !errs.Is(err, "media_not_found") {
			t.Fatalf("a deleted file is still served: %v", err)
		}
		if _, err := e.svc.Lookup(e.ctx, key(mb.URL)); err != nil {
			t.Fatalf("B's copy went with A's: %v", err)
		}
	})
}

func TestLookupServesOnlyKnownKeys(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, nil)
		shopID := e.shop()
		m, err := e.svc.Upload(e.ctx, shopID, 1, media.KindProduct, jpegBytes(t, picture(32, 32)))
		if err != nil {
			t.Fatal(err)
		}
		th, err := e.svc.Lookup(e.ctx, key(m.ThumbURLs[1]))
		if err != nil || th.ContentType != "image/jpeg" || th.ETag != `"`+m.SHA256+`_750"` || !th.Final {
			t.Fatalf("thumbnail: %+v %v", th, err)
		}
		base := "shop/" + itoa(shopID) + "/" + m.SHA256
		for _, k := range []string{"", "../secret.key", "shop/" + itoa(shopID) + "/../../secret.key", base + ".png", base + "_300.jpg",
			"/" + key(m.URL), key(m.URL) + "/x", "shop/999/" + m.SHA256 + ".jpg", "kaidian.db"} {
			if _, err := e.svc.Lookup(e.ctx, k); !errs.Is(err, "media_not_found") {
				t.Errorf("lookup %q: %v, want media_not_found", k, err)
			}
		}
	})
}

func TestUploadsGoToS3(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(backend).Server())
	defer ts.Close()
	s3, err := blob.NewS3(blob.S3Config{Endpoint: strings.TrimPrefix(ts.URL, "http://"), Bucket: "media", Region: "us-east-1",
		AccessKey: "ak", SecretKey: "sk", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, s3)
		shopID := e.shop()
		m, err := e.svc.Upload(e.ctx, shopID, 1, media.KindProduct, jpegBytes(t, picture(300, 300)))
		if err != nil {
			t.Fatal(err)
		}
		if img, _, err := image.Decode(bytes.NewReader(e.blob(m.ThumbURLs[0]))); err != nil || img.Bounds().Dx() != 200 {
			t.Fatalf("thumbnail from S3: %v", err)
		}
		if err := e.svc.Delete(e.ctx, shopID, m.ID); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s3.Exists(e.ctx, key(m.URL)); ok {
			t.Fatal("deleted media left in the bucket")
		}
	})
}

// checker is a WeChat image check that answers trace ids.
type checker struct{ asked []string }

func (c *checker) Enabled(ctx context.Context, shopID int64) (bool, error) { return true, nil }
func (c *checker) CheckImage(ctx context.Context, shopID int64, url string) (string, error) {
	c.asked = append(c.asked, url)
	return "trace-" + itoa(int64(len(c.asked))), nil
}

func TestWeChatVerdictApprovesOrHidesAnImage(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, nil)
		c := &checker{}
		e.svc.SetChecker(c)
		q := jobs.New(d, slog.New(slog.DiscardHandler))
		e.svc.RegisterJobs(q)
		shopID := e.shop()
		ok, err := e.svc.Upload(e.ctx, shopID, 1, media.KindProduct, jpegBytes(t, picture(40, 40)))
		if err != nil || ok.Moderation != media.Pending {
			t.Fatalf("upload: %+v %v", ok, err)
		}
		bad, _ := e.svc.Upload(e.ctx, shopID, 1, media.KindProduct, jpegBytes(t, picture(41, 41)))
		doc, _ := e.svc.Upload(e.ctx, shopID, 1, media.KindAttachment, []byte("plain text"))
		if doc.Moderation != media.Unchecked {
			t.Fatalf("attachments are not sent to the image check: %s", doc.Moderation)
		}
		if f, err := e.svc.Lookup(e.ctx, key(bad.URL)); err != nil || f.Final {
			t.Fatalf("a pending image is served, briefly cached: %+v %v", f, err)
		}
		for {
			ran, err := q.WorkOne(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !ran {
				break
			}
		}
		if len(c.asked) != 2 || c.asked[0] != ok.URL {
			t.Fatalf("asked WeChat about %v", c.asked)
		}
		push := func(trace, suggest string, encrypted bool) {
			msg := `{"Event":"wxa_media_check","trace_id":"` + trace + `","result":{"suggest":"` + suggest + `","label":"20002"}}`
			if err := e.svc.CheckPushed(e.ctx, shopID, wechat.Push{Event: media.CheckEvent, Encrypted: encrypted, Message: []byte(msg)}); err != nil {
				t.Fatal(err)
			}
		}
		push("trace-2", "risky", false) // plain mode proves nothing about the body
		if m, _ := e.svc.Get(e.ctx, shopID, bad.ID); m.Moderation != media.Pending {
			t.Fatalf("a plain-mode push was believed: %s", m.Moderation)
		}
		push("trace-1", "pass", true)
		push("trace-2", "risky", true)
		push("trace-2", "pass", true) // a late, contrary repeat changes nothing
		if m, _ := e.svc.Get(e.ctx, shopID, ok.ID); m.Moderation != media.Approved {
			t.Fatalf("passed image: %s", m.Moderation)
		}
		if m, _ := e.svc.Get(e.ctx, shopID, bad.ID); m.Moderation != media.Rejected {
			t.Fatalf("risky image: %s", m.Moderation)
		}
		for _, u := range append([]string{bad.URL}, bad.ThumbURLs...) {
			if _, err := e.svc.Lookup(e.ctx, key(u)); !errs.Is(err, "media_not_found") {
				t.Errorf("a rejected image is served: %s %v", u, err)
			}
		}
		if f, err := e.svc.Lookup(e.ctx, key(ok.URL)); err != nil || !f.Final {
			t.Fatalf("approved image: %+v %v", f, err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
