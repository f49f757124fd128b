package audit

import (
	"context"
	"sync"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// appendBatch is the most records one group write inserts.
const appendBatch = 200

// appender writes records handed to Append in groups: whoever finds no
// write under way writes everything queued by then in one statement and
// commit, and again while more arrived meanwhile; the others wait for the
// write that took theirs. One caller alone pays one commit; many at once
// share commits, so a record costs a fraction of one.
type appender struct {
	mu      sync.Mutex
	queue   []*pending
	writing bool
}

type pending struct {
	e    Entry
	done chan error
}

// Append records e durably on its own (not in a caller's transaction),
// sharing the commit with concurrent Appends. It returns once e is
// committed, or with ctx's error (e may still be written then).
func (s *Service) Append(ctx context.Context, e Entry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	p := &pending{e: e, done: make(chan error, 1)}
	a := &s.appender
	a.mu.Lock()
	a.queue = append(a.queue, p)
	lead := !a.writing
	a.writing = true
	a.mu.Unlock()
	if lead {
		s.writeQueued()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeQueued writes the queue in batches until it is empty.
func (s *Service) writeQueued() {
	a := &s.appender
	for {
		a.mu.Lock()
		n := min(len(a.queue), appendBatch)
		if n == 0 {
			a.writing = false
			a.mu.Unlock()
			return
		}
		batch := a.queue[:n:n]
		a.queue = a.queue[n:]
		a.mu.Unlock()
		// The batch is written with a context of its own: one caller giving
		// up must not fail the others' records.
		err := s.insertMany(context.Background(), batch)
		for _, p := range batch {
			p.done <- err
		}
	}
}

// insertMany writes the batch in one transaction, row by row with the one
// statement Record uses (prepared once; a multi-row INSERT of every batch
// size would fill the statement cache).
func (s *Service) insertMany(ctx context.Context, batch []*pending) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, p := range batch {
			if err := s.Record(ctx, tx, p.e); err != nil {
				return err
			}
		}
		return nil
	})
}
