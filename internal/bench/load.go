package bench

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// Rows per multi-row INSERT and SPUs per transaction. 14 × 250 and
// 9 × 1000 bind parameters stay far below both engines' limits (SQLite
// 32,766, PostgreSQL 65,535).
const (
	spuRowsPerStmt = 250
	skuRowsPerStmt = 1000
	spusPerTx      = 25_000
)

var (
	shopCols     = []string{"id", "name", "appid", "subject_type", "created_at", "updated_at"}
	categoryCols = []string{"id", "shop_id", "parent_id", "name", "sort", "created_at", "updated_at"}
	spuCols      = []string{"id", "shop_id", "category_id", "title", "subtitle", "description", "images", "specs",
		"on_shelf", "sort", "price_min", "price_max", "created_at", "updated_at"}
	skuCols = []string{"id", "shop_id", "spu_id", "spec_values", "price", "stock", "code", "created_at", "updated_at"}
)

// LoadOptions tunes Load.
type LoadOptions struct {
	// Now anchors the time stamps: products were written over the 180 days
	// before Now minus an hour, oldest id first (zero = time.Now()). Keeping
	// them in the past keeps the read model's sync, which re-reads the last
	// 30 seconds of changes every second, out of the measurement.
	Now time.Time
	// Progress, if set, is called after each transaction with the SPUs
	// written so far.
	Progress func(spus int)
}

// LoadStats says what Load wrote and how long it took.
type LoadStats struct {
	Shops, Categories, SPUs, SKUs int
	Insert                        time.Duration // generating and inserting, committed
	Finish                        time.Duration // sequences, VACUUM ANALYZE / WAL checkpoint
}

// Load writes ds into d, which must be migrated and hold no shops yet, with
// multi-row INSERTs in large transactions. Ids are explicit (see Dataset);
// on PostgreSQL the identity sequences are moved past them afterwards.
func Load(ctx context.Context, d *db.DB, ds *Dataset, opt LoadOptions) (LoadStats, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	var st LoadStats
	start := time.Now()
	var n int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM shops`).Scan(&n); err != nil {
		return st, err
	}
	if n > 0 {
		return st, fmt.Errorf("the database already holds %d shop(s); bench loads into an empty one", n)
	}
	ts := stamps(opt.Now, ds.SPUs)
	if err := loadShops(ctx, d, ds, ts(0)); err != nil {
		return st, fmt.Errorf("load shops: %w", err)
	}
	st.Shops, st.Categories = ds.Shops, ds.Shops*CatsPerShop

	// One goroutine generates, this one inserts: the two overlap.
	type chunk struct {
		spus, skus []any
		nSPU, nSKU int
		last       bool // last chunk of a transaction
	}
	chunks := make(chan chunk, 8)
	genCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		defer close(chunks)
		for first := 1; first <= ds.SPUs; first += spuRowsPerStmt {
			end := min(first+spuRowsPerStmt-1, ds.SPUs)
			c := chunk{spus: make([]any, 0, (end-first+1)*len(spuCols)),
				skus: make([]any, 0, (end-first+1)*ds.SKUsPerSPU*len(skuCols))}
			for id := int64(first); id <= int64(end); id++ {
				p := ds.Product(id)
				t := ts(id)
				c.spus = append(c.spus, p.ID, p.ShopID, p.CategoryID, p.Title, p.Subtitle, p.Description, p.Images,
					p.Specs, p.OnShelf, int64(0), p.PriceMin, p.PriceMax, t, t)
				for _, k := range p.SKUs {
					c.skus = append(c.skus, k.ID, p.ShopID, p.ID, k.SpecValues, k.Price, k.Stock, k.Code, t, t)
				}
				c.nSPU++
				c.nSKU += len(p.SKUs)
			}
			c.last = end%spusPerTx == 0 || end == ds.SPUs
			select {
			case chunks <- c:
			case <-genCtx.Done():
				return
			}
		}
	}()

	var tx *sql.Tx
	var ins *inserter
	defer func() {
		if tx != nil {
			_ = tx.Rollback()
		}
	}()
	for c := range chunks {
		if tx == nil {
			var err error
			if tx, err = d.BeginTx(ctx, nil); err != nil {
				return st, err
			}
			ins = &inserter{d: d, tx: tx, stmts: map[string]*sql.Stmt{}}
		}
		if err := ins.insert(ctx, "spus", spuCols, c.spus, c.nSPU, spuRowsPerStmt); err != nil {
			return st, fmt.Errorf("insert spus: %w", err)
		}
		if err := ins.insert(ctx, "skus", skuCols, c.skus, c.nSKU, skuRowsPerStmt); err != nil {
			return st, fmt.Errorf("insert skus: %w", err)
		}
		st.SPUs += c.nSPU
		st.SKUs += c.nSKU
		if c.last {
			err := tx.Commit()
			tx = nil
			if err != nil {
				return st, fmt.Errorf("commit: %w", err)
			}
			if opt.Progress != nil {
				opt.Progress(st.SPUs)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	st.Insert = time.Since(start)
	start = time.Now()
	if err := finish(ctx, d); err != nil {
		return st, err
	}
	st.Finish = time.Since(start)
	return st, nil
}

// stamps returns the time stamp (Unix ms) of SPU id; 0 is the oldest.
func stamps(now time.Time, spus int) func(id int64) int64 {
	newest := now.Add(-time.Hour).UnixMilli()
	step := max(1, (180*24*time.Hour).Milliseconds()/int64(max(spus, 1)))
	return func(id int64) int64 { return newest - (int64(spus)-id)*step }
}

func loadShops(ctx context.Context, d *db.DB, ds *Dataset, t int64) error {
	return d.InTx(ctx, func(tx *db.Tx) error {
		ins := &inserter{d: d, tx: tx.Tx, stmts: map[string]*sql.Stmt{}}
		var shops, cats []any
		for s := int64(1); s <= int64(ds.Shops); s++ {
			shops = append(shops, s, fmt.Sprintf("压测店%d", s), AppID(s), "enterprise", t, t)
			for _, c := range ds.Categories(s) {
				var parent any
				if c.ParentID != 0 {
					parent = c.ParentID
				}
				cats = append(cats, c.ID, c.ShopID, parent, c.Name, c.Sort, t, t)
			}
		}
		if err := ins.insert(ctx, "shops", shopCols, shops, ds.Shops, 500); err != nil {
			return err
		}
		// Tops come before leaves in each shop's list, and the foreign key
		// is checked per row, so parents are always in place.
		return ins.insert(ctx, "categories", categoryCols, cats, ds.Shops*CatsPerShop, 500)
	})
}

// finish makes the database look like one that has been running: identity
// sequences past the explicit ids, and on PostgreSQL fresh planner
// statistics and visibility map (what autovacuum would do); on SQLite the
// WAL is checkpointed into the main file.
func finish(ctx context.Context, d *db.DB) error {
	if d.Engine != db.Postgres {
		_, err := d.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		return err
	}
	for _, t := range []string{"shops", "categories", "spus", "skus"} {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))`, t, t)
		if _, err := d.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sequence of %s: %w", t, err)
		}
	}
	_, err := d.ExecContext(ctx, `VACUUM ANALYZE shops, categories, spus, skus`)
	return err
}

// inserter runs multi-row INSERTs, preparing each statement shape once per
// transaction.
type inserter struct {
	d     *db.DB
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// insert writes n rows of args (len(cols) values each) into table, at most
// perStmt rows per statement.
func (in *inserter) insert(ctx context.Context, table string, cols []string, args []any, n, perStmt int) error {
	w := len(cols)
	if len(args) != n*w {
		return fmt.Errorf("%d values for %d rows of %d columns", len(args), n, w)
	}
	for i := 0; i < n; i += perStmt {
		rows := min(perStmt, n-i)
		stmt, err := in.stmt(ctx, table, cols, rows)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, args[i*w:(i+rows)*w]...); err != nil {
			return err
		}
	}
	return nil
}

func (in *inserter) stmt(ctx context.Context, table string, cols []string, rows int) (*sql.Stmt, error) {
	key := fmt.Sprintf("%s/%d", table, rows)
	if s, ok := in.stmts[key]; ok {
		return s, nil
	}
	s, err := in.tx.PrepareContext(ctx, in.d.Q(insertSQL(table, cols, rows)))
	if err != nil {
		return nil, err
	}
	in.stmts[key] = s
	return s, nil
}

// insertSQL is INSERT INTO table (cols) VALUES (?, …), … for rows rows.
func insertSQL(table string, cols []string, rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	var b strings.Builder
	b.Grow(len(table) + 32 + rows*(len(one)+2))
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}
