package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Local stores blobs as files under a folder. Each blob is written to a
// temporary file in its final folder and renamed into place, so a reader
// sees the whole file or none; its content type is kept in a sidecar
// file ".<name>.type" (keys cannot start a segment with '.', so no key
// names a sidecar or a temporary file).
type Local struct{ root string }

// NewLocal returns a store rooted at dir, creating it if needed.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob folder: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &Local{root: abs}, nil
}

func (l *Local) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", ErrBadKey
	}
	p := filepath.Join(l.root, filepath.FromSlash(key))
	if !strings.HasPrefix(p, l.root+string(filepath.Separator)) { // belt and braces: ValidKey already forbids ".."
		return "", ErrBadKey
	}
	return p, nil
}

func typePath(p string) string {
	return filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".type")
}

// Put writes the blob atomically (temporary file, fsync, rename).
func (l *Local) Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	if err := writeAtomic(typePath(p), strings.NewReader(contentType), -1); err != nil {
		return err
	}
	return writeAtomic(p, r, size)
}

// writeAtomic writes r to p through a temporary file in p's folder; size
// -1 takes whatever r gives.
func writeAtomic(p string, r io.Reader, size int64) (err error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(p), ".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, r)
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return ErrSize
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// Get opens the file.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, ErrNotFound
	}
	if err != nil {
		return nil, Info{}, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, Info{}, ErrNotFound
	}
	ct, _ := os.ReadFile(typePath(p))
	if len(ct) == 0 {
		ct = []byte("application/octet-stream")
	}
	etag := `"` + strconv.FormatInt(st.Size(), 16) + "-" + strconv.FormatInt(st.ModTime().UnixNano(), 16) + `"`
	return f, Info{ContentType: string(ct), Size: st.Size(), ETag: etag, ModTime: st.ModTime().UTC()}, nil
}

// Exists reports whether the file is there.
func (l *Local) Exists(ctx context.Context, key string) (bool, error) {
	p, err := l.path(key)
	if err != nil {
		return false, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil && st.Mode().IsRegular(), err
}

// Delete removes the file and its sidecar.
func (l *Local) Delete(ctx context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(typePath(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// List walks the folder in key order, skipping sidecars and temporary
// files (their names start with '.', which no key segment can).
func (l *Local) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	return filepath.WalkDir(l.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() && p != l.root {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() || !e.Type().IsRegular() {
			return ctx.Err()
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) || !ValidKey(key) {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		return fn(key, info.Size())
	})
}
