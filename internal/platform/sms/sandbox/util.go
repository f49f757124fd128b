package sandbox

import (
	"errors"

	"crypto/sha256"
	"encoding/hex"
	"github.com/kaidian/kaidian/internal/platform/sms"
	"slices"
	"sort"
)

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func asError(err error, target **sms.Error) bool { return errors.As(err, target) }
