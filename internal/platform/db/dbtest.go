package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// TestPostgresEnv names the variable that holds a PostgreSQL URL for tests.
const TestPostgresEnv = "KAIDIAN_TEST_POSTGRES"

// TestEngines lists the engines the conformance suite runs on: SQLite
// always, PostgreSQL when KAIDIAN_TEST_POSTGRES is set.
func TestEngines() []Engine {
	if os.Getenv(TestPostgresEnv) != "" {
		return []Engine{SQLite, Postgres}
	}
	return []Engine{SQLite}
}

// ForEachEngine runs fn as a subtest on every test engine, each with a fresh,
// migrated database of its own.
func ForEachEngine(t *testing.T, fn func(t *testing.T, d *DB)) {
	t.Helper()
	for _, e := range TestEngines() {
		t.Run(string(e), func(t *testing.T) { fn(t, OpenTest(t, e)) })
	}
}

// OpenTest opens a fresh, migrated database on engine for one test: a new
// SQLite file in t.TempDir(), or a new schema on the PostgreSQL server named
// by KAIDIAN_TEST_POSTGRES (dropped when the test ends).
func OpenTest(t testing.TB, engine Engine) *DB {
	t.Helper()
	dsn := TestDSN(t, engine)
	d, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", engine, err)
	}
	return d
}

// TestDSN returns a connection string for a fresh, empty database on engine
// (see OpenTest); several processes can share it.
func TestDSN(t testing.TB, engine Engine) string {
	t.Helper()
	if engine == SQLite {
		return filepath.Join(t.TempDir(), "kaidian.db")
	}
	base := os.Getenv(TestPostgresEnv)
	if base == "" {
		t.Skip("PostgreSQL tests need " + TestPostgresEnv)
	}
	schema := "t_" + randomHex(8)
	admin, err := Open(context.Background(), base)
	if err != nil {
		t.Fatalf("connect %s: %v", TestPostgresEnv, err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { dropSchema(base, schema) })
	return withSearchPath(t, base, schema)
}

func withSearchPath(t testing.TB, base, schema string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", TestPostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func dropSchema(base, schema string) {
	admin, err := Open(context.Background(), base)
	if err != nil {
		return
	}
	defer admin.Close()
	_, _ = admin.ExecContext(context.Background(), fmt.Sprintf("DROP SCHEMA %s CASCADE", schema))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
