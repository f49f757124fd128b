package media

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves uploads to staff and files to everyone.
type Handlers struct{ Svc *Service }

// uploadBodyLimit leaves room for the multipart framing and the kind field.
const uploadBodyLimit = MaxBytes + 64<<10

// presignTTL is how long a redirect to an S3 presigned URL stays valid.
const presignTTL = 15 * time.Minute

// Routes registers the routes.
// uploadForm documents the upload's multipart form.
var uploadForm = map[string]any{"type": "object", "required": []string{"file"},
	"properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}, "kind": map[string]any{"type": "string"}}}

func (h *Handlers) Routes(api *httpx.API) {
	const admin = "admin: media"
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/media", Tag: admin, Access: httpx.Staff, Perm: auth.PermCatalogWrite,
		Summary: "Upload an image (JPEG, PNG, WebP, GIF; kind product, banner or cover) or an attachment (PDF or plain text; kind attachment): " +
			"multipart/form-data with the field file (at most 10 MiB) and optionally kind. The type is read from the bytes; " +
			"metadata is stripped and thumbnails made; the same bytes uploaded again answer the same item",
		Status: http.StatusCreated, Response: Media{}, BodyLimit: uploadBodyLimit,
		Consumes: "multipart/form-data", ConsumesSchema: uploadForm,
		Errors: map[int][]string{
			400: {"empty_file", "file_required", "corrupt_image", "image_too_many_pixels", "invalid_kind", "malformed_multipart"},
			413: {"file_too_large", "body_too_large"},
			415: {"unsupported_file_type", "unsupported_media_type"},
		}, Handler: h.upload})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/media", Tag: admin, Access: httpx.Staff, Perm: auth.PermCatalogRead,
		Summary: "The shop's uploads, newest first",
		Query: httpx.PageParams(httpx.Param{Name: "kind", Type: "string", Description: "only this kind",
			Enum: Kind("").EnumValues()}),
		Errors: map[int][]string{400: {"invalid_kind"}}, Response: httpx.Page[Media]{}, Handler: h.list})
	api.Add(httpx.Route{Method: "DELETE", Path: "/admin/api/v1/media/{id}", Tag: admin, Access: httpx.Staff, Perm: auth.PermCatalogWrite,
		Summary: "Delete an upload that no product and no order uses (its files go too)", Status: http.StatusNoContent,
		Errors: map[int][]string{409: {"media_in_use"}}, Handler: h.delete})
	api.Add(httpx.Route{Method: "GET", Path: "/media/{key...}", Tag: "media", Access: httpx.Public,
		Summary: "A stored file or thumbnail (cached for good: the key names its content); from S3, a redirect to it. " +
			"Rejected images answer 404",
		Handler: h.serve})
}

var errFileRequired = errs.Field("file", "file_required", "send the file in the multipart field file")

func (h *Handlers) upload(w http.ResponseWriter, r *http.Request) error {
	kind, data, err := readUpload(r)
	if err != nil {
		return err
	}
	st, _ := auth.StaffFrom(r.Context())
	m, err := h.Svc.Upload(r.Context(), st.ShopID, st.AccountID, kind, data)
	return httpx.Respond(w, http.StatusCreated, m, err)
}

func malformed(msg string) error {
	return errs.E(errs.Invalid, "malformed_multipart", msg)
}

// readUpload streams the multipart body: the file part is read up to the
// limit (more is refused while reading), other parts are small fields.
func readUpload(r *http.Request) (Kind, []byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return "", nil, errs.E(errs.Unsupported, "unsupported_media_type", "send multipart/form-data with the field file")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, malformed("the multipart body has no boundary")
	}
	var kindText string
	var data []byte
	seenFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, bodyError(err)
		}
		switch part.FormName() {
		case "file":
			if seenFile {
				return "", nil, malformed("send one file per upload")
			}
			seenFile = true
			if data, err = ReadLimited(part); err != nil {
				return "", nil, bodyError(err)
			}
		case "kind":
			b, err := io.ReadAll(io.LimitReader(part, 64))
			if err != nil {
				return "", nil, bodyError(err)
			}
			kindText = strings.TrimSpace(string(b))
		default:
			if _, err := io.Copy(io.Discard, io.LimitReader(part, 1<<20)); err != nil {
				return "", nil, bodyError(err)
			}
		}
	}
	if !seenFile {
		return "", nil, errFileRequired
	}
	kind, err := ParseKind(kindText)
	return kind, data, err
}

// bodyError maps a read error: over the body limit is 413, the rest is a
// malformed body.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	var e *errs.Error
	switch {
	case errors.As(err, &tooBig):
		return errs.E(errs.TooLarge, "body_too_large", "the request body is over its limit")
	case errors.As(err, &e):
		return e
	}
	return malformed("the multipart body is malformed")
}

func (h *Handlers) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.PageQuery(r)
	if err != nil {
		return err
	}
	var kind Kind
	if v := r.URL.Query().Get("kind"); v != "" {
		if kind, err = ParseKind(v); err != nil {
			return err
		}
	}
	list, err := h.Svc.List(r.Context(), auth.StaffShop(r.Context()), kind, after, limit)
	return httpx.Respond(w, http.StatusOK, httpx.PageOf(list, limit, func(m Media) int64 { return m.ID }), err)
}

func (h *Handlers) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Svc.Delete(r.Context(), auth.StaffShop(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serve answers a file with strong cache headers: its key names its
// content, so it never changes (pending images get a short max-age, so a
// rejection takes effect soon). From a store browsers can read (S3), it
// redirects there.
func (h *Handlers) serve(w http.ResponseWriter, r *http.Request) error {
	f, err := h.Svc.Lookup(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	cache := "public, max-age=31536000, immutable"
	if !f.Final {
		cache = "public, max-age=60"
	}
	if linker, ok := h.Svc.Store().(blob.Linker); ok {
		u, err := linker.URL(r.Context(), f.Key, presignTTL)
		if err != nil {
			return errs.Wrap("media url", err)
		}
		w.Header().Set("Cache-Control", "public, max-age=600")
		http.Redirect(w, r, u, http.StatusFound)
		return nil
	}
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("ETag", f.ETag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, f.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	rc, info, err := h.Svc.Store().Get(r.Context(), f.Key)
	if errors.Is(err, blob.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return errs.Wrap("media get", err)
	}
	defer rc.Close()
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Length", itoa(info.Size))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if f.Attachment {
		name := f.Key[strings.LastIndexByte(f.Key, '/')+1:]
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, rc)
	}
	return nil
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
