package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

// Migration is one versioned schema change, e.g. 0002_catalog.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations for engine, oldest first.
func Migrations(engine Engine) ([]Migration, error) {
	dir := "migrations/" + string(engine)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		version, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrate applies every embedded migration not applied yet, each in its own
// transaction, and returns the names it applied. Several processes may call
// it at once: on PostgreSQL an advisory lock serialises them, on SQLite the
// immediate transaction does.
func (d *DB) Migrate(ctx context.Context) ([]string, error) {
	return d.MigrateTo(ctx, -1)
}

// MigrateTo is Migrate up to and including version (all when it is
// negative): a restore brings an empty database to its backup's version
// before loading the rows, and the rest of the way after.
func (d *DB) MigrateTo(ctx context.Context, version int) ([]string, error) {
	all, err := Migrations(d.Engine)
	if err != nil {
		return nil, err
	}
	if version >= 0 {
		upTo := all[:0:0]
		for _, m := range all {
			if m.Version <= version {
				upTo = append(upTo, m)
			}
		}
		all = upTo
	}
	err = d.InTx(ctx, func(tx *Tx) error {
		if err := lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range all {
		did, err := d.applyOne(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if did {
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

func (d *DB) applyOne(ctx context.Context, m Migration) (applied bool, err error) {
	err = d.InTx(ctx, func(tx *Tx) error {
		if err := lockMigrations(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, Now())
		applied = err == nil
		return err
	})
	return applied, err
}

// Version returns the newest applied migration version (0 when none).
func (d *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := d.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// lockMigrations serialises migrating processes on PostgreSQL with a
// transaction-scoped advisory lock (SQLite's immediate transactions already
// do).
func lockMigrations(ctx context.Context, tx *Tx) error {
	if tx.Engine() != Postgres {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(4242)`)
	return err
}
