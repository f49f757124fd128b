package server

import (
	"context"
	"github.com/kaidian/kaidian/internal/qa"
	"strconv"
	"strings"

	"github.com/kaidian/kaidian/internal/moderation"
)

// buildModeration creates the moderation service, its periodic job, its
// check of product text, and compiles the rules in the database.
func (s *Server) buildModeration(ctx context.Context) error {
	s.Moderation = moderation.NewService(s.DB, secChecker{s}, s.log)
	s.Moderation.RegisterJobs(s.Jobs)
	s.Moderation.SetPurchases(s.Orders)
	s.Catalog.SetTextCheck(s.Moderation.CheckStaffText, s.Moderation.HoldProduct)
	s.Moderation.OnPublished(func(ctx context.Context, shopID int64, it moderation.Item) error {
		switch it.Kind {
		case "nickname":
			return s.Members.SetNickname(ctx, shopID, it.MemberID, it.Text)
		case "product":
			id, err := strconv.ParseInt(strings.TrimPrefix(it.Target, "product:"), 10, 64)
			if err != nil {
				return err
			}
			return s.Catalog.ReleaseReview(ctx, shopID, id)
		case "comment":
			if qa.IsLessonTarget(it.Target) {
				return s.QA.Release(ctx, shopID, it.ID)
			}
		}
		return nil
	})
	return s.Moderation.Load(ctx)
}

// secChecker gives moderation WeChat's msg_sec_check for a shop's member.
type secChecker struct{ s *Server }

func (c secChecker) SecCheck(ctx context.Context, shopID, memberID int64, scene int, text string) (string, int, error) {
	app, err := shopApps{c.s.Shops}.App(ctx, shopID)
	if err != nil {
		return "", 0, err
	}
	openid, err := c.s.Members.OpenID(ctx, shopID, memberID)
	if err != nil {
		return "", 0, err
	}
	r, err := c.s.WeChat.MsgSecCheck(ctx, app, openid, scene, text)
	return r.Suggest, r.Label, err
}
