package db

import (
	"context"
	"fmt"
	"sync"
)

// maxGroup bounds how many callers share one transaction.
const maxGroup = 128

// groupCommit queues the callers of InGroupTx on SQLite.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*groupReq
	running bool
}

type groupReq struct {
	fn   func(tx *Tx) error
	done chan error
}

// InGroupTx runs fn in a transaction like InTx. On SQLite, callers that
// arrive while a transaction is being written share the next one (group
// commit): each fn runs in its own savepoint, so a failing fn undoes only
// its own work and gets its own error, and one commit writes them all.
// SQLite has one writer, and much of a small transaction's cost is its
// commit (a WAL frame per page it touched); concurrent orders touch the
// same last pages of each table and index. On PostgreSQL, where
// transactions run in parallel, InGroupTx is InTx.
//
// fn must not keep anything across calls that depends on its own
// transaction committing alone, and must use ctx only for its statements:
// the shared transaction is not cancelled by one caller's context.
func (d *DB) InGroupTx(ctx context.Context, fn func(tx *Tx) error) error {
	if d.Engine != SQLite {
		return d.InTx(ctx, func(tx *Tx) error { return recovered(tx, fn) })
	}
	req := &groupReq{fn: fn, done: make(chan error, 1)}
	g := &d.group
	g.mu.Lock()
	g.queue = append(g.queue, req)
	start := !g.running
	g.running = true
	g.mu.Unlock()
	if start {
		go d.writeGroups()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// The request may still run (its statements then fail on ctx);
		// the caller has gone either way.
		return ctx.Err()
	}
}

// writeGroups writes queued callers, up to maxGroup per transaction, until
// the queue is empty.
func (d *DB) writeGroups() {
	g := &d.group
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		batch := append([]*groupReq(nil), g.queue[:n]...)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		d.writeGroup(batch)
	}
}

func (d *DB) writeGroup(batch []*groupReq) {
	fns := make([]func(tx *Tx) error, len(batch))
	for i, r := range batch {
		fns[i] = r.fn
	}
	for i, err := range d.InTxEach(context.Background(), fns) {
		batch[i].done <- err
	}
}

// InTxEach runs every fn in one transaction, each in a savepoint of its
// own, and commits them together: a failing fn undoes only its own work,
// and its error is returned at its index. When the commit fails, every fn
// that had succeeded gets that error. For work a caller has in hand in
// bulk (due groups, say), this is one commit for many units on either
// engine.
func (d *DB) InTxEach(ctx context.Context, fns []func(tx *Tx) error) []error {
	results := make([]error, len(fns))
	err := d.InTx(ctx, func(tx *Tx) error {
		for i, fn := range fns {
			results[i] = runInSavepoint(tx, fn)
		}
		return nil
	})
	for i := range results {
		if err != nil && results[i] == nil {
			results[i] = err
		}
	}
	return results
}

// recovered runs fn, turning a panic into an error (as on SQLite, where a
// panic must not take down the other callers of the shared transaction).
func recovered(tx *Tx, fn func(tx *Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in grouped transaction: %v", p)
		}
	}()
	return fn(tx)
}

// runInSavepoint runs fn inside a savepoint of tx, rolling back to it when
// fn fails or panics.
func runInSavepoint(tx *Tx, fn func(tx *Tx) error) (err error) {
	ctx := context.Background()
	if _, err := tx.ExecContext(ctx, "SAVEPOINT grp"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO grp"); rbErr != nil {
				err = fmt.Errorf("%w (and rolling back: %v)", err, rbErr)
			}
		}
		if _, relErr := tx.ExecContext(ctx, "RELEASE grp"); relErr != nil && err == nil {
			err = relErr
		}
	}()
	return recovered(tx, fn)
}
