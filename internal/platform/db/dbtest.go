package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
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
// SQLite file in t.TempDir(), or a new database on the PostgreSQL server
// named by KAIDIAN_TEST_POSTGRES (dropped when the test ends).
func OpenTest(t testing.TB, engine Engine) *DB {
	t.Helper()
	dsn := TestDSN(t, engine)
	d, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestDSN returns a connection string for a fresh database on engine with
// every migration applied (see OpenTest); several processes can share it.
//
// Migrating costs seconds under the race detector (SQLite is transpiled C,
// and every test used to run all migrations), so each engine is migrated
// once into a template named by a hash of the migrations, and every test
// gets a copy: a file copy on SQLite, CREATE DATABASE … TEMPLATE on
// PostgreSQL (dropped when the test ends).
func TestDSN(t testing.TB, engine Engine) string {
	t.Helper()
	if engine == SQLite {
		return copySQLiteTemplate(t)
	}
	base := testPostgresBase(t)
	tpl, err := postgresTemplate(base)
	if err != nil {
		t.Fatalf("PostgreSQL test template: %v", err)
	}
	name := "t_" + randomHex(8)
	if err := adminExec(base, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { _ = adminExec(base, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)) })
	return withDatabase(t, base, name)
}

// EmptyTestDSN returns a connection string for a fresh database with no
// tables at all, for tests of migrating itself.
func EmptyTestDSN(t testing.TB, engine Engine) string {
	t.Helper()
	if engine == SQLite {
		return filepath.Join(t.TempDir(), "kaidian.db")
	}
	base := testPostgresBase(t)
	schema := "t_" + randomHex(8)
	if err := adminExec(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { _ = adminExec(base, fmt.Sprintf("DROP SCHEMA %s CASCADE", schema)) })
	return withSearchPath(t, base, schema)
}

func testPostgresBase(t testing.TB) string {
	base := os.Getenv(TestPostgresEnv)
	if base == "" {
		t.Skip("PostgreSQL tests need " + TestPostgresEnv)
	}
	return base
}

// migrationsHash names a template after the exact migrations it holds, so
// a changed or added migration builds a new one.
func migrationsHash(engine Engine) (string, error) {
	all, err := Migrations(engine)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range all {
		fmt.Fprintf(h, "%s\x00%s\x00", m.Name, m.SQL)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

var sqliteTemplate struct {
	once sync.Once
	path string
	err  error
}

// copySQLiteTemplate copies the migrated template file into t's temporary
// folder and returns the copy's path.
func copySQLiteTemplate(t testing.TB) string {
	sqliteTemplate.once.Do(func() { sqliteTemplate.path, sqliteTemplate.err = buildSQLiteTemplate() })
	if sqliteTemplate.err != nil {
		t.Fatalf("SQLite test template: %v", sqliteTemplate.err)
	}
	dst := filepath.Join(t.TempDir(), "kaidian.db")
	if err := copyFile(sqliteTemplate.path, dst); err != nil {
		t.Fatalf("copy SQLite test template: %v", err)
	}
	return dst
}

// buildSQLiteTemplate migrates a new file and renames it into place in the
// system's temporary folder, where test processes of every package share it
// (the rename makes a half-built template impossible to see).
func buildSQLiteTemplate() (string, error) {
	sum, err := migrationsHash(SQLite)
	if err != nil {
		return "", err
	}
	path := filepath.Join(os.TempDir(), "kaidian-test-template-"+sum+".db")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	dir, err := os.MkdirTemp("", "kaidian-test-template-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	built := filepath.Join(dir, "kaidian.db")
	if err := migrateAndClose(built); err != nil {
		return "", err
	}
	// The checkpoint emptied the WAL: the main file holds everything.
	return path, os.Rename(built, path)
}

func migrateAndClose(dsn string) error {
	ctx := context.Background()
	d, err := Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	if d.Engine == SQLite {
		_, err = d.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	return err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

var postgresTemplates sync.Map // base URL → *postgresTemplateOnce

type postgresTemplateOnce struct {
	once sync.Once
	name string
	err  error
}

// postgresTemplate returns the name of the migrated template database on
// the server of base, building it the first time. Test processes of several
// packages may race to build it: each builds under its own name and renames
// it; the loser drops its copy.
func postgresTemplate(base string) (string, error) {
	v, _ := postgresTemplates.LoadOrStore(base, &postgresTemplateOnce{})
	o := v.(*postgresTemplateOnce)
	o.once.Do(func() { o.name, o.err = buildPostgresTemplate(base) })
	return o.name, o.err
}

func buildPostgresTemplate(base string) (string, error) {
	sum, err := migrationsHash(Postgres)
	if err != nil {
		return "", err
	}
	name := "kaidian_test_template_" + sum
	exists, err := databaseExists(base, name)
	if err != nil || exists {
		return name, err
	}
	building := "kaidian_test_building_" + randomHex(6)
	if err := adminExec(base, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + building
	if err := migrateAndClose(u.String()); err != nil {
		_ = adminExec(base, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building))
		return "", err
	}
	if err := adminExec(base, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		_ = adminExec(base, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building))
		if exists, _ := databaseExists(base, name); exists {
			return name, nil // another test process built it first
		}
		return "", err
	}
	return name, nil
}

func databaseExists(base, name string) (bool, error) {
	admin, err := Open(context.Background(), base)
	if err != nil {
		return false, err
	}
	defer admin.Close()
	var n int
	err = admin.QueryRow(context.Background(), `SELECT COUNT(*) FROM pg_database WHERE datname = ?`, name).Scan(&n)
	return n > 0, err
}

func adminExec(base, stmt string) error {
	admin, err := Open(context.Background(), base)
	if err != nil {
		return fmt.Errorf("connect %s: %w", TestPostgresEnv, err)
	}
	defer admin.Close()
	_, err = admin.ExecContext(context.Background(), stmt)
	return err
}

func withDatabase(t testing.TB, base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", TestPostgresEnv, err)
	}
	u.Path = "/" + name
	return u.String()
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

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestShop inserts a bare enterprise shop with this appid into a test
// database (OpenTest) and returns its id: the fixture of store tests.
func TestShop(t testing.TB, d *DB, appid string) int64 {
	t.Helper()
	var id int64
	if err := d.QueryRow(context.Background(), `INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES (?, ?, 'enterprise', 0, 0) RETURNING id`,
		"店"+appid, appid).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestMember inserts a bare member of shopID and returns its id.
func TestMember(t testing.TB, d *DB, shopID int64, openid string) int64 {
	t.Helper()
	var id int64
	if err := d.QueryRow(context.Background(), `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
		shopID, openid).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
