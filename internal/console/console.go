// Package console serves the admin console, a Vue single-page application
// built from web/console into dist/ and embedded in the binary. It serves
// /admin/ (and every client route under it) but never /admin/api/, which
// belongs to the admin API.
package console

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// CSP is the console's Content-Security-Policy: only its own scripts and
// styles, nothing inline, no eval, no plugins, no framing, no <base> tricks.
// Element Plus and ECharts set styles through the CSSOM, which style-src
// does not restrict, so no 'unsafe-inline' is needed (the browser test
// fails on any CSP report). Images may come from https: (product photos).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; " +
	"font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Prefix is where the console is served.
const Prefix = "/admin/"

type file struct {
	body, gz    []byte
	contentType string
}

// Handler serves the embedded console.
type Handler struct {
	files map[string]file // by path under dist, e.g. "assets/index-abc.js"
}

// New loads the embedded files (and gzips the compressible ones once).
func New() *Handler {
	h := &Handler{files: map[string]file{}}
	_ = fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := dist.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "dist/")
		f := file{body: body, contentType: mime.TypeByExtension(path.Ext(name))}
		if f.contentType == "" {
			f.contentType = "application/octet-stream"
		}
		if len(body) > 1024 && compressible(f.contentType) {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			f.gz = buf.Bytes()
		}
		h.files[name] = f
		return nil
	})
	return h
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") || strings.Contains(ct, "json") || strings.Contains(ct, "svg")
}

// Serves reports whether r is for the console: /admin or /admin/… except
// the admin API.
func Serves(r *http.Request) bool {
	p := r.URL.Path
	return p == "/admin" || (strings.HasPrefix(p, Prefix) && !strings.HasPrefix(p, "/admin/api/") && p != "/admin/api")
}

// Built reports whether the embedded build has an index.html.
func (h *Handler) Built() bool { _, ok := h.files["index.html"]; return ok }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/admin" {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, Prefix)
	f, ok := h.files[name]
	switch {
	case ok && strings.HasPrefix(name, "assets/"):
		// Vite puts a content hash in every asset's name: cache for a year.
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	case strings.HasPrefix(name, "assets/") || (path.Ext(name) != "" && !ok):
		http.Error(w, "not found", http.StatusNotFound)
		return
	default:
		// index.html for / and every client-side route.
		if f, ok = h.files["index.html"]; !ok {
			http.Error(w, "the console is not built: run npm ci && npm run build in web/console", http.StatusNotFound)
			return
		}
		hd.Set("Cache-Control", "no-cache")
	}
	hd.Set("Content-Type", f.contentType)
	hd.Add("Vary", "Accept-Encoding")
	body := f.body
	if f.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) != "gzip" {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if q, err := strconv.ParseFloat(v, 64); err == nil && q == 0 {
				return false
			}
		}
		return true
	}
	return false
}
