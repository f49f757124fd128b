package privacy

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// exportsPerDay bounds a member's exports (each reads every table).
const exportsPerDay = 3

// maxRowsPerTable bounds one table's file in an export.
const maxRowsPerTable = 100_000

// notExported are tables of secrets about the member, not data of theirs:
// hashed SMS codes, the sealed session key of virtual payment.
var notExported = map[string]bool{"sms_codes": true, "xpay_session_keys": true}

// secretColumn names columns an export leaves out.
func secretColumn(c string) bool {
	return strings.Contains(c, "hash") || strings.Contains(c, "sealed") || strings.Contains(c, "secret") || strings.Contains(c, "session_key")
}

// Export writes everything the shop holds on the member to w as a zip of
// JSON files (member.json, then one file per table that names the member),
// and records the request as answered. At most three a day.
func (s *Service) Export(ctx context.Context, shopID, memberID int64, w io.Writer) error {
	if err := s.startExport(ctx, shopID, memberID); err != nil {
		return err
	}
	return s.writeExport(ctx, shopID, memberID, w)
}

// writeExport writes the zip of an export already counted.
func (s *Service) writeExport(ctx context.Context, shopID, memberID int64, w io.Writer) error {
	tables, err := s.memberTables(ctx)
	if err != nil {
		return err
	}
	z := zip.NewWriter(w)
	if err := s.writeTable(ctx, z, "member", `SELECT * FROM members WHERE id = ? AND shop_id = ?`, memberID, shopID); err != nil {
		return err
	}
	for _, t := range tables {
		if err := s.writeTable(ctx, z, t, `SELECT * FROM `+t+` WHERE member_id = ? AND shop_id = ? LIMIT ?`, memberID, shopID, maxRowsPerTable); err != nil {
			return err
		}
	}
	return z.Close()
}

// startExport counts the export against the day's allowance and records it.
func (s *Service) startExport(ctx context.Context, shopID, memberID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := memberOf(ctx, tx, shopID, memberID); err != nil {
			return err
		}
		now := s.now()
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM privacy_requests WHERE shop_id = ? AND member_id = ? AND kind = 'export' AND requested_at > ?`,
			shopID, memberID, now.Add(-24*time.Hour).UnixMilli()).Scan(&n); err != nil {
			return err
		}
		if n >= exportsPerDay {
			return errs.E(errs.RateLimited, "too_many_exports", "at most three exports a day: try again tomorrow")
		}
		_, err := tx.Exec(ctx, `INSERT INTO privacy_requests (shop_id, member_id, kind, status, requested_at, due_at, done_at)
			VALUES (?, ?, 'export', 'done', ?, ?, ?)`, shopID, memberID, now.UnixMilli(), now.UnixMilli(), now.UnixMilli())
		return err
	})
}

// memberTables lists the tables with a member_id and a shop_id column.
func (s *Service) memberTables(ctx context.Context) ([]string, error) {
	q := `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'member_id'
		AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) s WHERE s.name = 'shop_id') ORDER BY m.name`
	if s.db.Engine == db.Postgres {
		q = `SELECT c.table_name FROM information_schema.columns c WHERE c.table_schema = current_schema() AND c.column_name = 'member_id'
			AND EXISTS (SELECT 1 FROM information_schema.columns s WHERE s.table_schema = c.table_schema AND s.table_name = c.table_name AND s.column_name = 'shop_id')
			ORDER BY c.table_name`
	}
	names, err := db.All(ctx, s.db, func(r db.Scanner) (string, error) {
		var n string
		return n, r.Scan(&n)
	}, q)
	if err != nil {
		return nil, errs.Wrap("list member tables", err)
	}
	out := names[:0]
	for _, n := range names {
		if !notExported[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// writeTable writes the rows of query as name.json: an array of objects,
// secret columns left out.
func (s *Service) writeTable(ctx context.Context, z *zip.Writer, name, query string, args ...any) error {
	// Not through the statement cache: these run rarely, one per table.
	rows, err := s.db.QueryContext(ctx, s.db.Q(query), args...)
	if err != nil {
		return errs.Wrap("export "+name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			if secretColumn(c) {
				continue
			}
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			row[c] = vals[i]
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(out) == 0 {
		return nil
	}
	f, err := z.Create(name + ".json")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
