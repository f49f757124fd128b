package audit

import (
	"context"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Filter narrows a search. ShopID 0 searches the deployment-level records
// (operators acting without a shop).
type Filter struct {
	ShopID   int64
	Actor    string    // username, exactly
	Contains string    // in the action or the path
	From, To time.Time // at >= From, at < To (zero: open)
}

// Search returns up to limit records matching f with id below before,
// newest first.
func (s *Service) Search(ctx context.Context, f Filter, before int64, limit int) ([]Entry, error) {
	var where []string
	var args []any
	if f.ShopID == 0 {
		where = append(where, "shop_id IS NULL")
	} else {
		where, args = append(where, "shop_id = ?"), append(args, f.ShopID)
	}
	where, args = append(where, "id < ?"), append(args, before)
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Contains != "" {
		like := "%" + escapeLike(f.Contains) + "%"
		where, args = append(where, `(action LIKE ? ESCAPE '\' OR target LIKE ? ESCAPE '\')`), append(args, like, like)
	}
	if !f.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, f.To.UnixMilli())
	}
	args = append(args, limit)
	rows, err := db.All(ctx, s.db, scanEntry, `SELECT `+entryColumns+` FROM audit_log WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT ?`, args...)
	return rows, errs.Wrap("search audit log", err)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
