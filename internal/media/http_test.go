package media_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/kaidian/kaidian/internal/media"
	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// mux serves the media routes with every staff request acting on shopID.
func (e *env) mux(shopID int64) *http.ServeMux {
	mux := http.NewServeMux()
	api := httpx.NewAPI(mux, httpx.Guards{Staff: func(r *http.Request, p auth.Permission) (*http.Request, error) {
		return r.WithContext(auth.WithStaff(r.Context(), auth.Staff{AccountID: 5, ShopID: shopID, Role: auth.RoleOwner})), nil
	}})
	(&media.Handlers{Svc: e.svc}).Routes(api)
	return mux
}

func multipartBody(t testing.TB, fields map[string]string, file []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != nil {
		fw, _ := w.CreateFormFile("file", "../../etc/passwd.jpg")
		_, _ = fw.Write(file)
	}
	_ = w.Close()
	return &b, w.FormDataContentType()
}

// countingReader counts what the server read of a body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func do(h http.Handler, method, url, contentType string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, url, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func code(rec *httptest.ResponseRecorder) string {
	var body struct{ Code string }
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return body.Code
}

func TestUploadAndServeOverHTTP(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, nil)
		shopID := e.shop()
		h := e.mux(shopID)
		body, ct := multipartBody(t, map[string]string{"kind": "banner"}, pngBytes(t, picture(120, 60)))
		rec := do(h, "POST", "/admin/api/v1/media", ct, body)
		if rec.Code != 201 {
			t.Fatalf("upload: %d %s", rec.Code, rec.Body)
		}
		var m media.Media
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		if m.Kind != media.KindBanner || m.Width != 120 || m.CreatedBy != 5 || strings.Contains(m.URL, "passwd") {
			t.Fatalf("uploaded: %+v", m)
		}
		path := m.URL[len("https://shop.example.com"):]
		rec = do(h, "GET", path, "", nil)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" ||
			rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || rec.Header().Get("ETag") != `"`+m.SHA256+`"` ||
			rec.Body.Len() != int(m.Size) || rec.Header().Get("Content-Disposition") != "" {
			t.Fatalf("serve: %d %v", rec.Code, rec.Header())
		}
		if rec = do(h, "GET", path, "", nil, "If-None-Match", `"`+m.SHA256+`"`); rec.Code != 304 || rec.Body.Len() != 0 {
			t.Fatalf("If-None-Match: %d", rec.Code)
		}
		if rec = do(h, "HEAD", path, "", nil); rec.Code != 200 || rec.Body.Len() != 0 {
			t.Fatalf("HEAD: %d %d bytes", rec.Code, rec.Body.Len())
		}
		for _, p := range []string{"/media/../kaidian.db", "/media/shop/1/..%2f..%2fsecret.key", "/media/" + strings.Repeat("a", 70), "/media/shop/" + itoa(shopID) + "/" + m.SHA256 + ".gif"} {
			if rec = do(h, "GET", p, "", nil); rec.Code != 404 && rec.Code/100 != 3 { // a path with .. is redirected to its clean form, outside /media/
				t.Errorf("GET %s: %d %s", p, rec.Code, rec.Body)
			}
		}
		att, ct := multipartBody(t, map[string]string{"kind": "attachment"}, []byte("%PDF-1.7\n%%EOF\n"))
		rec = do(h, "POST", "/admin/api/v1/media", ct, att)
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		rec = do(h, "GET", m.URL[len("https://shop.example.com"):], "", nil)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment;") || rec.Header().Get("Content-Type") != "application/pdf" {
			t.Fatalf("attachment: %d %v", rec.Code, rec.Header())
		}
		rec = do(h, "GET", "/admin/api/v1/media?kind=banner", "", nil)
		var page httpx.Page[media.Media]
		if _ = json.Unmarshal(rec.Body.Bytes(), &page); rec.Code != 200 || len(page.Items) != 1 || page.Items[0].Kind != media.KindBanner {
			t.Fatalf("list: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestBadUploadsOverHTTP(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, nil)
		h := e.mux(e.shop())
		post := func(ct string, body io.Reader) *httptest.ResponseRecorder {
			return do(h, "POST", "/admin/api/v1/media", ct, body)
		}
		notImage, ct := multipartBody(t, nil, []byte("GIF? no: plain words in a file called photo.jpg"))
		noFile, ct2 := multipartBody(t, map[string]string{"kind": "product"}, nil)
		badKind, ct3 := multipartBody(t, map[string]string{"kind": "../../x"}, pngBytes(t, picture(4, 4)))
		empty, ct4 := multipartBody(t, nil, []byte{})
		cases := []struct {
			name   string
			ct     string
			body   io.Reader
			status int
			code   string
		}{
			{"not an image", ct, notImage, 415, "unsupported_file_type"},
			{"no file", ct2, noFile, 400, "file_required"},
			{"bad kind", ct3, badKind, 400, "invalid_kind"},
			{"empty file", ct4, empty, 400, "empty_file"},
			{"json", "application/json", strings.NewReader(`{"file":"x"}`), 415, "unsupported_media_type"},
			{"no boundary", "multipart/form-data", strings.NewReader("x"), 400, "malformed_multipart"},
			{"broken multipart", "multipart/form-data; boundary=zz", strings.NewReader("--zz\r\nno headers end"), 400, "malformed_multipart"},
		}
		for _, c := range cases {
			if rec := post(c.ct, c.body); rec.Code != c.status || code(rec) != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, rec.Code, rec.Body, c.status, c.code)
			}
		}
		// 50 MB: refused once the limit is passed, not after reading it all.
		big, ctBig := multipartBody(t, nil, make([]byte, 50<<20))
		cr := &countingReader{r: big}
		if rec := post(ctBig, cr); rec.Code != 413 {
			t.Fatalf("50 MB: %d %s", rec.Code, rec.Body)
		}
		if cr.n > 12<<20 {
			t.Fatalf("the server read %d bytes of a 50 MB upload before refusing it", cr.n)
		}
		if rec := do(h, "GET", "/admin/api/v1/media", "", nil); !strings.Contains(rec.Body.String(), `"items":[]`) {
			t.Fatalf("refused uploads were kept: %s", rec.Body)
		}
	})
}

// TestServeFromS3Redirects: from a bucket, a file is a redirect to a
// presigned URL (short-lived) or to the configured public address.
func TestServeFromS3Redirects(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(backend).Server())
	defer ts.Close()
	for _, public := range []string{"", "https://cdn.example.com"} {
		s3, err := blob.NewS3(blob.S3Config{Endpoint: strings.TrimPrefix(ts.URL, "http://"), Bucket: "media", Region: "us-east-1",
			AccessKey: "ak", SecretKey: "sk", PathStyle: true, PublicURL: public})
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, db.OpenTest(t, db.SQLite), s3)
		shopID := e.shop()
		h := e.mux(shopID)
		png := pngBytes(t, picture(50, 50))
		body, ct := multipartBody(t, nil, png)
		rec := do(h, "POST", "/admin/api/v1/media", ct, body)
		var m media.Media
		if _ = json.Unmarshal(rec.Body.Bytes(), &m); rec.Code != 201 {
			t.Fatalf("upload: %d %s", rec.Code, rec.Body)
		}
		rec = do(h, "GET", m.URL[len("https://shop.example.com"):], "", nil)
		loc := rec.Header().Get("Location")
		if rec.Code != 302 || !strings.Contains(loc, key(m.URL)) {
			t.Fatalf("GET from S3: %d %q", rec.Code, loc)
		}
		if public != "" {
			if loc != public+"/"+key(m.URL) {
				t.Fatalf("public URL: %q", loc)
			}
			continue
		}
		if !strings.Contains(loc, "X-Amz-Signature=") || !strings.Contains(loc, "X-Amz-Expires=900") {
			t.Fatalf("presigned URL: %q", loc)
		}
		res, err := http.Get(loc)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Equal(got, e.blob(m.URL)) {
			t.Fatalf("following the redirect: %d, %d bytes", res.StatusCode, len(got))
		}
	}
}
