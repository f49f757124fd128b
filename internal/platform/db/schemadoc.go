package db

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// SchemaDoc writes the database design document from a database d with
// every migration applied (SQLite: its tables as the migrations leave
// them) and from the migrations' own comments: each table with the comment
// above its CREATE TABLE, its columns, indexes and foreign keys. The
// handover document docs/database.md is this, checked for drift by a test.
func SchemaDoc(ctx context.Context, d *DB) (string, error) {
	if d.Engine != SQLite {
		return "", fmt.Errorf("the schema document is read from SQLite")
	}
	migs, err := Migrations(SQLite)
	if err != nil {
		return "", err
	}
	comments, origin := tableComments(migs)
	tables, err := d.sqliteTables(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Database design\n\nGenerated from the %d migrations in internal/platform/db/migrations (SQLite; the PostgreSQL\n", len(migs))
	b.WriteString("migrations create the same tables with PostgreSQL types) by `KAIDIAN_UPDATE_DOCS=1 go test ./internal/platform/db -run TestSchemaDocIsCurrent`;\n")
	b.WriteString("do not edit by hand. Times are milliseconds since 1970 (UTC), money is fen, a shop's rows carry `shop_id`.\n\n")
	fmt.Fprintf(&b, "%d tables: ", len(tables))
	for i, t := range tables {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%s](#%s)", t, t)
	}
	b.WriteString("\n")
	for _, t := range tables {
		if err := d.writeTableDoc(ctx, &b, t, comments[t], origin[t]); err != nil {
			return "", fmt.Errorf("table %s: %w", t, err)
		}
	}
	return b.String(), nil
}

var createTable = regexp.MustCompile(`(?i)^CREATE TABLE (?:IF NOT EXISTS )?([a-z_0-9]+)`)

// tableComments takes the comment lines right above each CREATE TABLE
// (the newest migration that creates a table wins) and the migration
// that created it.
func tableComments(migs []Migration) (map[string]string, map[string]string) {
	comments, origin := map[string]string{}, map[string]string{}
	for _, m := range migs {
		var block []string
		for _, line := range strings.Split(m.SQL, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "--"):
				block = append(block, strings.TrimSpace(strings.TrimPrefix(line, "--")))
			case createTable.MatchString(line):
				name := strings.ToLower(createTable.FindStringSubmatch(line)[1])
				if len(block) > 0 || comments[name] == "" {
					comments[name] = strings.TrimSpace(strings.Join(block, " "))
				}
				origin[name] = m.Name
				block = nil
			default:
				block = nil
			}
		}
	}
	return comments, origin
}

func (d *DB) sqliteTables(ctx context.Context) ([]string, error) {
	rows, err := d.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (d *DB) writeTableDoc(ctx context.Context, b *strings.Builder, table, comment, origin string) error {
	fmt.Fprintf(b, "\n## %s\n\n", table)
	if comment != "" {
		fmt.Fprintf(b, "%s\n\n", comment)
	}
	if origin != "" {
		fmt.Fprintf(b, "Created by `%s`.\n\n", origin)
	}
	b.WriteString("| column | type | null | default | key |\n|---|---|---|---|---|\n")
	cols, err := d.QueryContext(ctx, `SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return err
	}
	for cols.Next() {
		var name, typ, dflt string
		var notNull, pk int
		if err := cols.Scan(&name, &typ, &notNull, &dflt, &pk); err != nil {
			cols.Close()
			return err
		}
		key := ""
		if pk > 0 {
			key = "primary"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", name, typ, map[bool]string{true: "no", false: "yes"}[notNull == 1], cell(dflt), key)
	}
	cols.Close()
	if err := d.writeIndexes(ctx, b, table); err != nil {
		return err
	}
	return d.writeForeignKeys(ctx, b, table)
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func (d *DB) writeIndexes(ctx context.Context, b *strings.Builder, table string) error {
	rows, err := d.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`, table)
	if err != nil {
		return err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("- `%s`", strings.Join(strings.Fields(sql), " ")))
	}
	if len(lines) > 0 {
		fmt.Fprintf(b, "\nIndexes:\n\n%s\n", strings.Join(lines, "\n"))
	}
	return rows.Err()
}

func (d *DB) writeForeignKeys(ctx context.Context, b *strings.Builder, table string) error {
	rows, err := d.QueryContext(ctx, `SELECT "from", "table", COALESCE("to", '') FROM pragma_foreign_key_list(?)`, table)
	if err != nil {
		return err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var from, to, col string
		if err := rows.Scan(&from, &to, &col); err != nil {
			return err
		}
		if col == "" {
			col = "id"
		}
		lines = append(lines, fmt.Sprintf("- `%s` → [%s](#%s).`%s`", from, to, to, col))
	}
	sort.Strings(lines)
	if len(lines) > 0 {
		fmt.Fprintf(b, "\nReferences:\n\n%s\n", strings.Join(lines, "\n"))
	}
	return rows.Err()
}
