package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config points at an S3-compatible bucket.
type S3Config struct {
	Endpoint  string // host[:port], e.g. oss-cn-hangzhou.aliyuncs.com, cos.ap-shanghai.myqcloud.com
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	PathStyle bool // bucket in the path (MinIO), not in the host name
	UseSSL    bool
	// PublicURL, when set, is the bucket's public (or CDN) base address:
	// URL answers PublicURL/<key> instead of a presigned URL.
	PublicURL string
	// Transport replaces the HTTP transport (tests); nil = default.
	Transport http.RoundTripper
}

// S3 stores blobs in an S3-compatible bucket through minio-go.
type S3 struct {
	c      *minio.Client
	bucket string
	public string
}

// NewS3 returns a store on cfg's bucket (it does not call the store).
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3: endpoint and bucket are required")
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.UseSSL,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	return &S3{c: c, bucket: cfg.Bucket, public: strings.TrimRight(cfg.PublicURL, "/")}, nil
}

// Put uploads the object; minio-go refuses a reader shorter than size, and
// a longer one is cut to size, so the rest is checked here.
func (s *S3) Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error {
	if !ValidKey(key) {
		return ErrBadKey
	}
	if size < 0 {
		return ErrSize
	}
	cr := &countingReader{r: r}
	_, err := s.c.PutObject(ctx, s.bucket, key, io.LimitReader(cr, size), size, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		if cr.n < size {
			return ErrSize
		}
		return fmt.Errorf("s3 put: %w", err)
	}
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 { // more than size: undo
		_ = s.Delete(ctx, key)
		return ErrSize
	}
	return nil
}

func notFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound" || minio.ToErrorResponse(err).StatusCode == http.StatusNotFound
}

// Get opens the object.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if !ValidKey(key) {
		return nil, Info{}, ErrBadKey
	}
	obj, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, fmt.Errorf("s3 get: %w", err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if notFound(err) {
			return nil, Info{}, ErrNotFound
		}
		return nil, Info{}, fmt.Errorf("s3 get: %w", err)
	}
	return obj, infoOf(st), nil
}

func infoOf(st minio.ObjectInfo) Info {
	etag := st.ETag
	if etag != "" && !strings.HasPrefix(etag, `"`) {
		etag = `"` + etag + `"`
	}
	return Info{ContentType: st.ContentType, Size: st.Size, ETag: etag, ModTime: st.LastModified.UTC()}
}

// Exists asks for the object's metadata.
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	if !ValidKey(key) {
		return false, ErrBadKey
	}
	_, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("s3 stat: %w", err)
	}
	return true, nil
}

// Delete removes the object (S3 answers success for a missing one).
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return ErrBadKey
	}
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("s3 delete: %w", err)
	}
	return nil
}

// URL is the public address of the key, or a presigned GET valid for ttl.
func (s *S3) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if !ValidKey(key) {
		return "", ErrBadKey
	}
	if s.public != "" {
		return s.public + "/" + key, nil
	}
	u, err := s.c.PresignedGetObject(ctx, s.bucket, key, ttl, url.Values{})
	if err != nil {
		return "", fmt.Errorf("s3 presign: %w", err)
	}
	return u.String(), nil
}

// List pages through the bucket's objects under prefix.
func (s *S3) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine when fn stops early
	for obj := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("s3 list: %w", obj.Err)
		}
		if err := fn(obj.Key, obj.Size); err != nil {
			return err
		}
	}
	return ctx.Err()
}
