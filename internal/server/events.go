package server

import (
	"context"

	"github.com/kaidian/kaidian/internal/analytics/events"
)

// wireEvents builds the event store (issue 16) and hands it the domains'
// changes through their hooks, each run in the change's own transaction:
// orders paid and refunded, members' signups, check-ins. Its
// bitmaps are built from the table before serving (Sync) and kept up by
// a poll (see Run).
func (s *Server) wireEvents(ctx context.Context) error {
	s.Events = events.NewService(s.DB, s.Limiter)
	// Not s.Orders.OnCreated(s.Events.OrderCreated): a hook on order
	// creation takes PostgreSQL's one-statement order path away (every
	// order would take the general transaction); order_created is not
	// recorded until it is derived from the orders table instead.
	s.Orders.OnPaid(s.Events.OrderPaid)
	s.Orders.OnRefunded(s.Events.OrderRefunded)
	s.Members.OnSignup(s.Events.Signup)
	s.Checkins.OnCheckedIn(s.Events.CheckedIn)
	return s.Events.Index().Sync(ctx)
}
