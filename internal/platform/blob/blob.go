// Package blob stores files (images, attachments, generated codes) behind
// one small interface: the local data folder by default, or any
// S3-compatible store (Aliyun OSS, Tencent COS, MinIO, AWS S3). Keys are
// slash-separated paths of safe characters, validated by every store, so a
// key can never leave the local folder or name another bucket.
package blob

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
)

// Info describes a stored blob.
type Info struct {
	ContentType string
	Size        int64
	ETag        string // quoted, as an HTTP ETag
	ModTime     time.Time
}

// Store keeps blobs by key.
type Store interface {
	// Put stores size bytes of r under key (replacing any blob there); a
	// reader that gives more or fewer than size bytes is refused and
	// nothing is stored.
	Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error
	// Get opens the blob; the caller closes the reader. ErrNotFound when
	// there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Exists reports whether a blob is stored under key.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes the blob; deleting a missing one is not an error.
	Delete(ctx context.Context, key string) error
}

// Lister is implemented by stores that can enumerate their blobs (both
// stores here): List calls fn for every blob whose key starts with
// prefix, in key order; an error from fn stops it and is returned.
type Lister interface {
	List(ctx context.Context, prefix string, fn func(key string, size int64) error) error
}

// Linker is implemented by stores that browsers can read directly: URL
// is a presigned GET URL valid for ttl, or the public base URL's address of
// the key when one is configured.
type Linker interface {
	URL(ctx context.Context, key string, ttl time.Duration) (string, error)
}

var (
	// ErrNotFound: no blob under the key.
	ErrNotFound = errors.New("blob: not found")
	// ErrBadKey: the key is empty, too long, absolute, has a ".." or
	// empty segment, or a character outside [A-Za-z0-9._-/].
	ErrBadKey = errors.New("blob: invalid key")
	// ErrSize: the reader did not give the announced size.
	ErrSize = errors.New("blob: size does not match")
)

// MaxKeyLen is the longest key accepted.
const MaxKeyLen = 512

// ValidKey reports whether key is a safe key: relative, slash-separated
// segments of letters, digits, '.', '_' and '-', no segment empty or
// starting with '.' (so no "..", no hidden files, no temp-file clashes).
func ValidKey(key string) bool {
	if key == "" || len(key) > MaxKeyLen {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
			if !ok {
				return false
			}
		}
	}
	return true
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
