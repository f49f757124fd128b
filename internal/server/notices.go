package server

import (
	"context"
	"strconv"

	"github.com/kaidian/kaidian/internal/levels"
	"github.com/kaidian/kaidian/internal/messaging"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/points"
)

// wireNotices makes the rooms' events into messages to the member, each
// queued in its event's transaction: a refund done, a level's fall
// announced, points about to expire.
func (s *Server) wireNotices() {
	s.Orders.OnRefunded(s.Messages.Refunded)
	s.Levels.OnFallAnnounced(func(ctx context.Context, tx *db.Tx, f levels.FallNotice) error {
		return s.Messages.Notify(ctx, tx, messaging.Notice{ShopID: f.ShopID, MemberID: f.MemberID, Kind: messaging.LevelFalling,
			RefID: f.At.UnixMilli(), Vars: map[string]string{"level.name": f.Level, "level.new_name": f.NewLevel,
				"level.falls_at": messaging.ChinaMinute(f.At)}})
	})
	s.Points.OnExpiringSoon(func(ctx context.Context, tx *db.Tx, e points.ExpiringSoon) error {
		return s.Messages.Notify(ctx, tx, messaging.Notice{ShopID: e.ShopID, MemberID: e.MemberID, Kind: messaging.PointsExpiring,
			RefID: e.Day, Vars: map[string]string{"points.amount": strconv.FormatInt(e.Points, 10),
				"points.expires_at": messaging.ChinaMinute(e.ExpiresAt)}})
	})
}
