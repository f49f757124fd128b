package db

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen calls fn with the payload of every PostgreSQL notification on
// channel until ctx ends, on a connection of its own (LISTEN needs one that
// stays open). It also calls fn("") after each (re)connection, because
// notifications sent while no connection listened are lost: the caller
// should then catch up from the database. A lost connection is retried
// with a back-off of up to 5 s. On SQLite, which has no notifications,
// Listen returns at once.
func (d *DB) Listen(ctx context.Context, channel string, fn func(payload string)) {
	if d.Engine != Postgres {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if connected, _ := d.listenOnce(ctx, channel, fn); connected {
			backoff = 100 * time.Millisecond // it worked for a while: retry soon
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce listens until the connection fails; connected says whether
// LISTEN succeeded first.
func (d *DB) listenOnce(ctx context.Context, channel string, fn func(string)) (connected bool, err error) {
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false, err
	}
	fn("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		fn(n.Payload)
	}
}
