package media

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// CheckKind is the job that sends a new image to WeChat's image check.
const CheckKind = "media_check"

// CheckEvent is the push that carries the check's result.
const CheckEvent = "wxa_media_check"

type checkJob struct {
	MediaID int64 `json:"media_id"`
}

// RegisterJobs sets the check job's handler.
func (s *Service) RegisterJobs(q *jobs.Queue) { q.Handle(CheckKind, s.runCheck) }

// runCheck asks WeChat to check a pending image and keeps the trace id
// its push will carry. A failed call is retried by the queue.
func (s *Service) runCheck(ctx context.Context, j jobs.Job) error {
	var p checkJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("media check payload: %w", err)
	}
	m, err := s.Get(ctx, j.ShopID, p.MediaID)
	if errs.Is(err, "media_not_found") {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	if m.Moderation != Pending || s.checker == nil {
		return nil
	}
	trace, err := s.checker.CheckImage(ctx, j.ShopID, m.URL)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `UPDATE media SET trace_id = ? WHERE shop_id = ? AND id = ? AND moderation = 'pending'`,
		trace, j.ShopID, m.ID)
	return err
}

// checkPush is the wxa_media_check event (version 2).
type checkPush struct {
	TraceID string `json:"trace_id"`
	Result  struct {
		Suggest string          `json:"suggest"` // pass, review, risky
		Label   json.RawMessage `json:"label"`   // a number in answers, a string in pushes
	} `json:"result"`
}

// CheckPushed applies WeChat's verdict on an image: pass approves it,
// risky rejects it (it stops being served), review leaves it pending for
// a person. Only a safe-mode push is believed: a plain-mode signature
// does not cover the body. Repeats change nothing.
func (s *Service) CheckPushed(ctx context.Context, shopID int64, p wechat.Push) error {
	var ev checkPush
	if err := p.Decode(&ev); err != nil || ev.TraceID == "" {
		s.log.Warn("WeChat media check push without a trace id", "shop", shopID)
		return nil
	}
	if !p.Encrypted {
		s.log.Warn("WeChat media check push in plain mode ignored: set the message push to safe mode (安全模式)",
			"shop", shopID, "trace_id", ev.TraceID)
		return nil
	}
	var state Moderation
	switch ev.Result.Suggest {
	case "pass":
		state = Approved
	case "risky":
		state = Rejected
	default:
		return nil
	}
	res, err := s.db.Exec(ctx, `UPDATE media SET moderation = ? WHERE shop_id = ? AND trace_id = ? AND moderation = 'pending'`,
		string(state), shopID, ev.TraceID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		s.log.Info("WeChat media check push for no pending image here", "shop", shopID, "trace_id", ev.TraceID)
	}
	return nil
}
