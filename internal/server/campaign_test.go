package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kaidian/kaidian/internal/messaging"
)

// seedCampaign gives shop a (after seedSegments) a draft campaign to its
// segment.
func (e *env) seedCampaign(a testShop, marker string) int64 {
	e.t.Helper()
	c := e.must(a.owner, 201, "POST", "/admin/api/v1/campaigns", map[string]any{"name": marker + "活动", "segment_id": a.segmentID,
		"title": marker + "会员日", "body": marker + "全场满 199 减 30", "quiet_from": "00:00", "quiet_to": "00:00"})
	return int64(c["id"].(float64))
}

// TestACampaignReachesTheSegmentsInbox: staff save a campaign to a
// segment, count it dry, start it; the job queues its member and the
// message lands in the inbox; the results count it; a second start is
// refused.
func TestACampaignReachesTheSegmentsInbox(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		e.seedSegments(&a)
		id := e.seedCampaign(a, "甲")
		dry := e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/campaigns/%d/dry-run", id), nil)
		if dry["members"] != float64(1) || dry["would_get"] != float64(1) {
			t.Fatalf("dry run %v", dry)
		}
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/campaigns/%d/start", id), nil)
		if r := e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/campaigns/%d/start", id), nil); r.status != 409 || r.code() != "campaign_not_draft" {
			t.Fatalf("started twice: %d %s", r.status, r.body)
		}
		for range 2 { // a pass queues, the next finds no one left
			if _, err := e.srv.Campaigns.RunDue(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		e.runDueJobs(messaging.SendKind)
		inbox := e.must(a.member, 200, "GET", "/api/v1/me/messages", nil)["items"].([]any)
		if len(inbox) == 0 || inbox[0].(map[string]any)["title"] != "甲会员日" || inbox[0].(map[string]any)["kind"] != "campaign" {
			t.Fatalf("inbox %v", inbox)
		}
		res := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/campaigns/%d", id), nil)
		if c := res["campaign"].(map[string]any); c["state"] != "done" || c["queued"] != float64(1) || res["messages"].(map[string]any)["sent/inbox"] != float64(1) {
			t.Fatalf("results %v", res)
		}
		if r := e.do(a.owner, "POST", "/admin/api/v1/campaigns", map[string]any{"name": "x", "segment_id": 999999, "title": "t", "body": "b"}); r.status != 404 {
			t.Fatalf("a campaign to an unknown segment: %d %s", r.status, r.body)
		}
	})
}
