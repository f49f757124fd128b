package db

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSQLiteFilesArePrivate: a new database file and its WAL are created
// 0600, and an existing file readable by others is made private on open.
func TestSQLiteFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kaidian.db")
	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(context.Background(), `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", p, st.Mode().Perm(), err)
		}
	}
	d.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err = Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("an existing file stays %v", st.Mode().Perm())
	}
}
