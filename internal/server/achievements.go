package server

import (
	"context"

	"github.com/kaidian/kaidian/internal/achievements"
	"github.com/kaidian/kaidian/internal/points"
)

// wireAchievements builds the achievements service and hands it the
// events: orders' paid and received hooks (in their transactions; the
// check-in hook is registered where check-in is built), members' profile changes (after they commit; a failure is
// logged and made up when the buyer next reads the tasks).
func (s *Server) wireAchievements() {
	s.Achievements = achievements.NewService(s.DB, checkinRewards{earn: s.Points.Earn}, pointsEarned{s.Points})
	s.Achievements.Hooks(s.Orders)
	s.Members.OnProfileChanged(func(ctx context.Context, shopID, memberID int64) {
		if err := s.Achievements.ProfileChanged(ctx, shopID, memberID); err != nil {
			s.log.Error("profile tasks", "shop", shopID, "member", memberID, "err", err)
		}
	})
}

// pointsEarned reads the points ever earned from the points account.
type pointsEarned struct{ svc *points.Service }

func (p pointsEarned) Earned(ctx context.Context, shopID, memberID int64) (int64, error) {
	a, err := p.svc.Account(ctx, shopID, memberID)
	return a.Earned, err
}
