package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// Scratch opens an empty database beside d for a short-lived job (a
// restore drill): a new SQLite file in a temporary folder, or a new schema
// in d's PostgreSQL database (so no CREATEDB right is needed). drop closes
// it and removes the file or the schema with everything in it.
func (d *DB) Scratch(ctx context.Context) (scratch *DB, drop func(), err error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "kaidian_scratch_" + hex.EncodeToString(b)
	if d.Engine == SQLite {
		dir, err := os.MkdirTemp("", name)
		if err != nil {
			return nil, nil, err
		}
		s, err := Open(ctx, filepath.Join(dir, "scratch.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return s, func() { s.Close(); os.RemoveAll(dir) }, nil
	}
	u, err := url.Parse(d.url)
	if err != nil {
		return nil, nil, err
	}
	if _, err := d.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		return nil, nil, fmt.Errorf("scratch schema: %w", err)
	}
	dropSchema := func() { _, _ = d.ExecContext(context.Background(), `DROP SCHEMA `+name+` CASCADE`) }
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	s, err := Open(ctx, u.String())
	if err != nil {
		dropSchema()
		return nil, nil, err
	}
	return s, func() { s.Close(); dropSchema() }, nil
}
