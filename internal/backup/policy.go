package backup

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/blob"
)

// NewKey returns a new backup key, base64-encoded.
func NewKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// ErrNoKey: neither a key nor a key file is set.
var ErrNoKey = errors.New("no backup key: set KAIDIAN_BACKUP_KEY or KAIDIAN_BACKUP_KEY_FILE (kaidian backup keygen prints a new key; keep it apart from the data folder, or a thief of the data has the key too)")

// LoadKey decodes the base64 key given, or the one in file.
func LoadKey(value, file string) ([]byte, error) {
	if value == "" && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("backup key file: %w", err)
		}
		value = string(b)
	}
	if strings.TrimSpace(value) == "" {
		return nil, ErrNoKey
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(strings.TrimSpace(value)); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, errors.New("the backup key must be 32 bytes in base64")
}

// OffsiteStore opens the off-site bucket named by rawURL —
// http[s]://host[:port]/bucket?region=…&path_style=true — or returns nil
// when rawURL is empty.
func OffsiteStore(rawURL, accessKey, secretKey string) (blob.Store, error) {
	if rawURL == "" {
		return nil, nil
	}
	u, err := url.Parse(rawURL)
	bucket := ""
	if err == nil {
		bucket = strings.Trim(u.Path, "/")
	}
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || bucket == "" || strings.Contains(bucket, "/") {
		return nil, fmt.Errorf("backup-s3 %q: want https://host[:port]/bucket?region=…", rawURL)
	}
	pathStyle, _ := strconv.ParseBool(u.Query().Get("path_style"))
	return blob.NewS3(blob.S3Config{Endpoint: u.Host, Bucket: bucket, Region: u.Query().Get("region"),
		AccessKey: accessKey, SecretKey: secretKey, PathStyle: pathStyle, UseSSL: u.Scheme == "https"})
}
