package catalog

import (
	"context"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// ledgerMargin is how many stock-ledger ids the poll re-reads below the
// newest it saw. On PostgreSQL an id is taken at insert and becomes visible
// at commit, so a transaction can commit a lower id after a higher one was
// read; re-reading the last ids catches those that commit within that
// margin. SQLite commits in id order (one writer) and needs none.
const ledgerMargin = 512

// stockPoll drops the cached details of products whose stock moved since
// the last poll, as the stock ledger records every movement (orders, flash
// sales, refunds). It reads only new ledger rows: cheap when nothing sells.
type stockPoll struct {
	seen int64 // highest ledger id read
}

// start sets the poll to the newest ledger row, at load.
func (p *stockPoll) start(ctx context.Context, d *db.DB) error {
	return d.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM stock_ledger`).Scan(&p.seen)
}

// poll returns the products whose stock moved since the last call.
func (p *stockPoll) poll(ctx context.Context, d *db.DB) ([]int64, error) {
	since := p.seen
	if d.Engine == db.Postgres {
		since = max(0, since-ledgerMargin)
	}
	rows, err := d.Query(ctx, `SELECT l.id, k.spu_id FROM stock_ledger l JOIN skus k ON k.id = l.sku_id
		WHERE l.id > ? ORDER BY l.id`, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var spus []int64
	seen := map[int64]bool{}
	for rows.Next() {
		var id, spu int64
		if err := rows.Scan(&id, &spu); err != nil {
			return nil, err
		}
		p.seen = max(p.seen, id)
		if !seen[spu] {
			seen[spu] = true
			spus = append(spus, spu)
		}
	}
	return spus, rows.Err()
}
