package httpx

import (
	"bytes"
	"io"
	"net/http"
)

// AuditRecord is what one audited request did, handed to the API's
// auditor after the handler has answered.
type AuditRecord struct {
	Route     Route
	Status    int
	RequestID string
	// Request is the JSON body as received (nil for routes without a JSON
	// body; uploads are described, not kept).
	Request []byte
	// Before is what the route's resource looked like before the change:
	// the answer of the GET route at the same path, read just before (nil
	// when there is none or it failed).
	Before []byte
	// After is the route's answer (nil for files; cut at MaxAuditBody).
	After []byte
}

// MaxAuditBody caps each body an audit record keeps.
const MaxAuditBody = 16 << 10

// Auditor receives every audited request (r carries the caller the guard
// found). It must not fail the request: the change is already made.
type Auditor func(r *http.Request, rec AuditRecord)

// SetAuditor records through f every staff request that changes data
// (any method but GET), every staff download of a file (exports), and
// every route marked Audited (logins), from now on.
func (a *API) SetAuditor(f Auditor) { a.auditor = f }

// audited reports whether a request of rt is recorded.
func audited(rt Route) bool {
	switch {
	case rt.Audited:
		return true
	case rt.Access != Staff:
		return false
	case rt.Method != http.MethodGet:
		return true
	default:
		return rt.Produces != ""
	}
}

// serveAudited runs rt's handler and hands what it did to the auditor.
func (a *API) serveAudited(rt Route, w http.ResponseWriter, r *http.Request) error {
	rec := AuditRecord{Route: rt}
	if rt.Request != nil && r.Body != nil {
		// Read a copy of what the handler will decode (at most the body
		// limit: the handler refuses more), and hand it the same stream.
		limit := rt.BodyLimit
		if limit <= 0 {
			limit = DefaultBodyLimit
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, limit+1))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		rec.Request = body[:min(len(body), MaxAuditBody)]
	}
	if r.Method == http.MethodPatch || r.Method == http.MethodPut || r.Method == http.MethodDelete {
		rec.Before = a.readBefore(rt, r)
	}
	cw := &captureWriter{ResponseWriter: w, keep: rt.Produces == ""}
	err := rt.Handler(cw, r)
	if err != nil {
		WriteError(cw, r, err)
	}
	rec.Status, rec.After = cw.status, cw.body.Bytes()
	if rec.Status == 0 {
		rec.Status = http.StatusOK
	}
	rec.RequestID = w.Header().Get("X-Request-Id")
	a.auditor(r, rec)
	return nil
}

// readBefore answers the GET route registered at rt's path for the same
// caller, into a buffer.
func (a *API) readBefore(rt Route, r *http.Request) []byte {
	for _, g := range a.routes {
		if g.Method != http.MethodGet || g.Path != rt.Path || g.Produces != "" {
			continue
		}
		get := r.Clone(r.Context())
		get.Method, get.Body, get.ContentLength = http.MethodGet, http.NoBody, 0
		cw := &captureWriter{ResponseWriter: discardWriter{h: http.Header{}}, keep: true}
		if err := g.Handler(cw, get); err != nil || cw.status >= 300 {
			return nil
		}
		return cw.body.Bytes()
	}
	return nil
}

// captureWriter passes an answer through and keeps its status and the
// first MaxAuditBody bytes of its body.
type captureWriter struct {
	http.ResponseWriter
	status int
	keep   bool
	body   bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.keep && w.body.Len() < MaxAuditBody {
		w.body.Write(b[:min(len(b), MaxAuditBody-w.body.Len())])
	}
	return w.ResponseWriter.Write(b)
}

func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// discardWriter is a ResponseWriter that writes nowhere.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
