// Package media keeps the images and files staff upload: each is checked
// (real type from the bytes, size, pixels before decoding), stripped of
// its metadata, given thumbnails, and stored in the blob store under a
// content-addressed key of its shop (shop/<id>/<sha256>.<ext>), so the same
// bytes are stored once and a URL, once given out, always means the same
// picture. Images are sent to WeChat's image check (media_check_async)
// when the shop has WeChat credentials; a rejected image is no longer
// served. Blobs outlive products: a product deleted or edited never
// deletes a picture, and a picture referenced by a product or an order
// line cannot be deleted.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Kind is what an upload is for.
type Kind string

const (
	KindProduct    Kind = "product"
	KindBanner     Kind = "banner"
	KindCover      Kind = "cover"
	KindAttachment Kind = "attachment"
)

// EnumValues lists the kinds (OpenAPI).
func (Kind) EnumValues() []string { return []string{"product", "banner", "cover", "attachment"} }

// Moderation is the state of WeChat's image check.
type Moderation string

const (
	Unchecked Moderation = "unchecked" // no WeChat credentials, or an attachment: not checked, served
	Pending   Moderation = "pending"   // queued or asked; served until WeChat answers
	Approved  Moderation = "approved"
	Rejected  Moderation = "rejected" // not served
)

// EnumValues lists the states (OpenAPI).
func (Moderation) EnumValues() []string {
	return []string{"unchecked", "pending", "approved", "rejected"}
}

// Media is one stored upload, as staff see it.
type Media struct {
	ID          int64      `json:"id"`
	Kind        Kind       `json:"kind"`
	URL         string     `json:"url" doc:"absolute URL of the file on this server (/media/…); put it in a product's images"`
	ThumbURLs   []string   `json:"thumb_urls" doc:"JPEG thumbnails 200 and 750 pixels wide (none for attachments)"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size" doc:"bytes stored (after metadata was stripped)"`
	Width       int        `json:"width"`
	Height      int        `json:"height"`
	SHA256      string     `json:"sha256" doc:"of the uploaded bytes"`
	Moderation  Moderation `json:"moderation" doc:"WeChat's image check: unchecked (no WeChat credentials, or an attachment), pending, approved, rejected (no longer served)"`
	CreatedBy   int64      `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`

	key    string
	thumbs [2]string
}

// Checker sends images to WeChat's image check (server wires it to the
// shop's mini program).
type Checker interface {
	// Enabled reports whether the shop can have images checked (it has
	// WeChat credentials).
	Enabled(ctx context.Context, shopID int64) (bool, error)
	// CheckImage asks WeChat to check the image at url; the answer comes
	// later as a push matched by the trace id.
	CheckImage(ctx context.Context, shopID int64, url string) (traceID string, err error)
}

// References says whether anything still uses a file: a product (in the
// bin too, it can come back) or an order line's snapshot.
type References interface {
	MediaReferenced(ctx context.Context, shopID int64, key string) (bool, error)
}

// Service stores and serves media.
type Service struct {
	db      *db.DB
	store   blob.Store
	baseURL string // e.g. https://shop.example.com: URLs are baseURL/media/<key>
	refs    References
	checker Checker
	log     *slog.Logger
	// busy bounds the images decoded at once: a 40-megapixel picture
	// takes up to 320 MB decoded, so a burst of uploads must queue.
	busy chan struct{}
}

// NewService returns the service; baseURL is this server's public base URL.
func NewService(d *db.DB, store blob.Store, baseURL string, refs References, log *slog.Logger) *Service {
	return &Service{db: d, store: store, baseURL: baseURL, refs: refs, log: log, busy: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// SetChecker turns on WeChat's image check of new images.
func (s *Service) SetChecker(c Checker) { s.checker = c }

// Store is the blob store (for the file server).
func (s *Service) Store() blob.Store { return s.store }

// URL is the public URL of a key.
func (s *Service) URL(key string) string { return s.baseURL + "/media/" + key }

var errNotFound = errs.E(errs.NotFound, "media_not_found", "no such file")

// ParseKind reads the kind field; "" is product.
func ParseKind(v string) (Kind, error) {
	switch Kind(v) {
	case "":
		return KindProduct, nil
	case KindProduct, KindBanner, KindCover, KindAttachment:
		return Kind(v), nil
	}
	return "", errs.Field("kind", "invalid_kind", "kind must be product, banner, cover or attachment")
}

// Upload checks, processes and stores one file. The same bytes uploaded
// again by the shop answer the existing item.
func (s *Service) Upload(ctx context.Context, shopID, staffID int64, kind Kind, data []byte) (Media, error) {
	if len(data) == 0 {
		return Media{}, errEmpty
	}
	if len(data) > MaxBytes {
		return Media{}, errTooLarge
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if m, err := s.bySHA(ctx, shopID, hash); err == nil {
		if ok, err := s.store.Exists(ctx, m.key); err == nil && ok {
			return m, nil
		}
		// The row is there but its blob is not (deleted meanwhile): store it again below.
	} else if !errs.Is(err, "media_not_found") {
		return Media{}, err
	}
	p, err := s.process(ctx, kind, data)
	if err != nil {
		return Media{}, err
	}
	m := Media{Kind: kind, ContentType: p.contentType, Size: int64(len(p.data)), Width: p.width, Height: p.height,
		SHA256: hash, Moderation: Unchecked, CreatedBy: staffID, CreatedAt: time.UnixMilli(db.Now()).UTC()}
	m.key = fmt.Sprintf("shop/%d/%s.%s", shopID, hash, p.ext)
	if err := s.put(ctx, m.key, p.contentType, p.data); err != nil {
		return Media{}, err
	}
	if kind != KindAttachment {
		for i, w := range ThumbWidths {
			m.thumbs[i] = fmt.Sprintf("shop/%d/%s_%d.jpg", shopID, hash, w)
			if err := s.put(ctx, m.thumbs[i], "image/jpeg", p.thumbs[i]); err != nil {
				return Media{}, err
			}
		}
		if s.checker != nil {
			on, err := s.checker.Enabled(ctx, shopID)
			if err != nil {
				return Media{}, err
			}
			if on {
				m.Moderation = Pending
			}
		}
	}
	return s.insert(ctx, shopID, m)
}

// process checks and converts the upload, one per core at a time.
func (s *Service) process(ctx context.Context, kind Kind, data []byte) (processed, error) {
	if kind == KindAttachment {
		return processAttachment(data)
	}
	select {
	case s.busy <- struct{}{}:
	case <-ctx.Done():
		return processed{}, ctx.Err()
	}
	defer func() { <-s.busy }()
	return processImage(data)
}

func (s *Service) put(ctx context.Context, key, contentType string, data []byte) error {
	if err := s.store.Put(ctx, key, contentType, bytes.NewReader(data), int64(len(data))); err != nil {
		return errs.Wrap("store "+key, err)
	}
	return nil
}

// insert records the item (and queues its check) unless a concurrent
// upload of the same bytes did first; either way it answers the row.
func (s *Service) insert(ctx context.Context, shopID int64, m Media) (Media, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO media (shop_id, blob_key, kind, content_type, size, width, height, sha256,
			thumb_small, thumb_large, moderation, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (shop_id, sha256) DO NOTHING RETURNING id`,
			shopID, m.key, string(m.Kind), m.ContentType, m.Size, m.Width, m.Height, m.SHA256, m.thumbs[0], m.thumbs[1],
			string(m.Moderation), m.CreatedBy, m.CreatedAt.UnixMilli()).Scan(&m.ID)
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil || m.Moderation != Pending {
			return err
		}
		_, err = jobs.Enqueue(ctx, tx, CheckKind, checkJob{MediaID: m.ID}, jobs.Options{ShopID: shopID,
			UniqueKey: "media-check:" + strconv.FormatInt(m.ID, 10), MaxAttempts: 8})
		return err
	})
	if err != nil {
		return Media{}, errs.Wrap("insert media", err)
	}
	if m.ID == 0 {
		return s.bySHA(ctx, shopID, m.SHA256)
	}
	return s.withURLs(m), nil
}

const columns = `id, blob_key, kind, content_type, size, width, height, sha256, thumb_small, thumb_large, moderation, created_by, created_at`

func scan(r db.Scanner) (Media, error) {
	var m Media
	var kind, mod string
	var created int64
	err := r.Scan(&m.ID, &m.key, &kind, &m.ContentType, &m.Size, &m.Width, &m.Height, &m.SHA256, &m.thumbs[0], &m.thumbs[1],
		&mod, &m.CreatedBy, &created)
	m.Kind, m.Moderation, m.CreatedAt = Kind(kind), Moderation(mod), time.UnixMilli(created).UTC()
	return m, err
}

func (s *Service) withURLs(m Media) Media {
	m.URL = s.URL(m.key)
	m.ThumbURLs = []string{}
	for _, t := range m.thumbs {
		if t != "" {
			m.ThumbURLs = append(m.ThumbURLs, s.URL(t))
		}
	}
	return m
}

func (s *Service) one(ctx context.Context, where string, args ...any) (Media, error) {
	m, err := scan(s.db.QueryRow(ctx, `SELECT `+columns+` FROM media WHERE `+where, args...))
	if db.IsNoRows(err) {
		return Media{}, errNotFound
	}
	if err != nil {
		return Media{}, errs.Wrap("media", err)
	}
	return s.withURLs(m), nil
}

func (s *Service) bySHA(ctx context.Context, shopID int64, hash string) (Media, error) {
	return s.one(ctx, `shop_id = ? AND sha256 = ?`, shopID, hash)
}

// Get returns one item of the shop.
func (s *Service) Get(ctx context.Context, shopID, id int64) (Media, error) {
	return s.one(ctx, `shop_id = ? AND id = ?`, shopID, id)
}

// List returns the shop's items, newest first, after the id cursor (0 =
// from the newest), limit+1 rows for httpx.PageOf; kind "" lists all.
func (s *Service) List(ctx context.Context, shopID int64, kind Kind, after int64, limit int) ([]Media, error) {
	q := `SELECT ` + columns + ` FROM media WHERE shop_id = ?`
	args := []any{shopID}
	if kind != "" {
		q += ` AND kind = ?`
		args = append(args, string(kind))
	}
	if after > 0 {
		q += ` AND id < ?`
		args = append(args, after)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	list, err := db.All(ctx, s.db, scan, q, args...)
	if err != nil {
		return nil, errs.Wrap("list media", err)
	}
	for i := range list {
		list[i] = s.withURLs(list[i])
	}
	return list, nil
}

var errInUse = errs.E(errs.Conflict, "media_in_use", "a product or an order still uses this file; remove it from the product first (orders keep theirs for good)")

// Delete removes an item nothing references, and its blobs.
func (s *Service) Delete(ctx context.Context, shopID, id int64) error {
	m, err := s.Get(ctx, shopID, id)
	if err != nil {
		return err
	}
	for _, key := range append([]string{m.key}, m.thumbs[:]...) {
		if key == "" || s.refs == nil {
			continue
		}
		used, err := s.refs.MediaReferenced(ctx, shopID, key)
		if err != nil {
			return errs.Wrap("media references", err)
		}
		if used {
			return errInUse
		}
	}
	if err := db.ExpectOne(s.db.Exec(ctx, `DELETE FROM media WHERE shop_id = ? AND id = ?`, shopID, id)); err != nil {
		if db.IsNoRows(err) {
			return errNotFound
		}
		return errs.Wrap("delete media", err)
	}
	for _, key := range append([]string{m.key}, m.thumbs[:]...) {
		if key == "" {
			continue
		}
		if err := s.store.Delete(ctx, key); err != nil {
			// The row is gone: the blob is an orphan nobody links to.
			s.log.Warn("delete blob", "key", key, "err", err)
		}
	}
	return nil
}

// keyPattern is a media key: shop/<id>/<sha256>[_<width>].<ext>.
var keyPattern = regexp.MustCompile(`^shop/([1-9][0-9]{0,18})/([0-9a-f]{64})(_[0-9]+)?\.(jpg|png|gif|webp|pdf|txt)$`)

// Served is what the file server needs to answer a key.
type Served struct {
	Key, ContentType, ETag string
	Attachment             bool
	Final                  bool // approved or never checked: cache for good
}

// Lookup finds the item a key belongs to (the file or a thumbnail) and
// refuses keys of no item and of rejected images.
func (s *Service) Lookup(ctx context.Context, key string) (Served, error) {
	sub := keyPattern.FindStringSubmatch(key)
	if sub == nil {
		return Served{}, errNotFound
	}
	shopID, err := strconv.ParseInt(sub[1], 10, 64)
	if err != nil {
		return Served{}, errNotFound
	}
	m, err := s.bySHA(ctx, shopID, sub[2])
	if err != nil {
		return Served{}, err
	}
	ct := m.ContentType
	switch key {
	case m.key:
	case m.thumbs[0], m.thumbs[1]:
		ct = "image/jpeg"
	default:
		return Served{}, errNotFound
	}
	if m.Moderation == Rejected {
		return Served{}, errNotFound
	}
	return Served{Key: key, ContentType: ct, ETag: `"` + sub[2] + sub[3] + `"`, Attachment: m.Kind == KindAttachment,
		Final: m.Moderation != Pending}, nil
}

var errTooLarge = errs.E(errs.TooLarge, "file_too_large", "the file is over 10 MiB")

// ReadLimited reads r up to MaxBytes, refusing more while reading (the
// whole body is never buffered past the limit).
func ReadLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBytes {
		return nil, errTooLarge
	}
	return data, nil
}
