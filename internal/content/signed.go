package content

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// MediaTTL is how long a signed media URL plays.
const MediaTTL = 10 * time.Minute

var (
	errLinkInvalid = errs.E(errs.Forbidden, "media_link_invalid", "this media link is not valid")
	errLinkExpired = errs.E(errs.Gone, "media_link_expired", "this media link has expired; open the lesson again")
	errNoMedia     = errs.E(errs.NotFound, "media_not_found", "the lesson's file is not there")
)

// mediaLink is what a signed media token carries: the shop's blob key,
// until when it plays, and how much of the file it serves (permille: 1000
// the whole file; a preview serves the share of the bytes its seconds are
// of the lesson, so a locked lesson's preview never streams the rest).
type mediaLink struct {
	shopID   int64
	key      string
	expires  int64 // unix seconds
	permille int
}

func (s *Service) sign(payload string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("content-media:" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:20])
}

func (s *Service) token(l mediaLink) string {
	payload := fmt.Sprintf("%d|%s|%d|%d", l.shopID, l.key, l.expires, l.permille)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + s.sign(payload)
}

func (s *Service) parseToken(tok string) (mediaLink, error) {
	p, sig, ok := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if !ok || err != nil || !hmac.Equal([]byte(sig), []byte(s.sign(string(raw)))) {
		return mediaLink{}, errLinkInvalid
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 4 {
		return mediaLink{}, errLinkInvalid
	}
	l := mediaLink{key: parts[1]}
	var e1, e2, e3 error
	l.shopID, e1 = strconv.ParseInt(parts[0], 10, 64)
	l.expires, e2 = strconv.ParseInt(parts[2], 10, 64)
	l.permille, e3 = strconv.Atoi(parts[3])
	if e1 != nil || e2 != nil || e3 != nil {
		return mediaLink{}, errLinkInvalid
	}
	if time.Now().Unix() > l.expires {
		return mediaLink{}, errLinkExpired
	}
	return l, nil
}

// mediaURL is a short-lived URL of the shop's blob: presigned by an S3
// store for a full play, else this server's signed route.
func (s *Service) mediaURL(ctx context.Context, shopID int64, key string, permille int) (string, time.Time, error) {
	exp := time.Now().Add(MediaTTL)
	if linker, ok := s.store.(blob.Linker); ok && permille >= 1000 {
		u, err := linker.URL(ctx, key, MediaTTL)
		return u, exp, errs.Wrap("media url", err)
	}
	return "/api/v1/content/media/" + s.token(mediaLink{shopID: shopID, key: key, expires: exp.Unix(), permille: permille}), exp, nil
}

// ServeMedia streams a signed link's file with Range support (the share
// of it the link allows).
func (s *Service) ServeMedia(w http.ResponseWriter, r *http.Request, tok string) error {
	l, err := s.parseToken(tok)
	if err != nil {
		return err
	}
	if s.store == nil {
		return errNoMedia
	}
	rc, info, err := s.store.Get(r.Context(), l.key)
	if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrBadKey) {
		return errNoMedia
	}
	if err != nil {
		return errs.Wrap("media get", err)
	}
	defer rc.Close()
	size := info.Size
	if l.permille < 1000 {
		size = info.Size * int64(l.permille) / 1000
	}
	w.Header().Set("Content-Type", info.ContentType)
	w.Header().Set("Cache-Control", "private, max-age=600")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if ra, ok := rc.(io.ReaderAt); ok {
		http.ServeContent(w, r, "", info.ModTime, io.NewSectionReader(ra, 0, size))
		return nil
	}
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.CopyN(w, rc, size)
	}
	return nil
}
