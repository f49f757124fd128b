// Package campaign sends a message to the members of a segment (issue 15):
// scheduled, paced per minute, never in the shop's quiet hours, within
// frequency caps per member across campaigns, skipping members who opted
// out of marketing. A job queues the members in batches: each batch's
// recipient rows (unique per campaign and member), their messages and the
// campaign's cursor are written in one transaction that moves the cursor by
// compare-and-set, so a process killed in the middle leaves nothing half
// done and a restart queues every remaining member once.
package campaign

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// Segments pages through a saved segment's members (segment.Service).
type Segments interface {
	MemberIDs(ctx context.Context, shopID, segmentID, afterID int64, limit int) ([]int64, error)
}

// Notify queues one member's message of a campaign in the caller's
// transaction (messaging: the campaign kind, one per campaign and member).
type Notify func(ctx context.Context, tx *db.Tx, m Message) error

// Message is a campaign's message to one member.
type Message struct {
	ShopID, MemberID, CampaignID int64
	Title, Body, Page            string
}

// Campaign states.
const (
	Draft     = "draft"
	Scheduled = "scheduled"
	Running   = "running"
	Cancelled = "cancelled"
	Done      = "done"
)

// Service runs campaigns.
type Service struct {
	db       *db.DB
	segments Segments
	notify   Notify
	now      func() time.Time
}

// NewService builds the service.
func NewService(d *db.DB, segments Segments, notify Notify) *Service {
	return &Service{db: d, segments: segments, notify: notify, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

var china = time.FixedZone("CST", 8*3600)

// Input is a campaign as staff write it.
type Input struct {
	Name       string     `json:"name" doc:"1–60 characters, for staff"`
	SegmentID  int64      `json:"segment_id" doc:"the saved segment whose members get it (counted when it runs)"`
	Title      string     `json:"title" doc:"the message's title, 1–20 characters"`
	Body       string     `json:"body" doc:"the message, 1–200 characters"`
	Page       string     `json:"page" doc:"the mini-program page a tap opens (optional), e.g. pages/product/detail?id=1"`
	StartAt    *time.Time `json:"start_at" doc:"when to start (default: when started)"`
	PerDayCap  *int       `json:"per_day_cap" doc:"at most this many campaign messages a member gets a day, across campaigns, 0–100 (default 1; 0: no cap)"`
	PerWeekCap *int       `json:"per_week_cap" doc:"and a week (7 days), 0–100 (default 3; 0: no cap)"`
	QuietFrom  string     `json:"quiet_from" doc:"quiet hours start, HH:MM Asia/Shanghai (default 22:00): nothing is queued in them"`
	QuietTo    string     `json:"quiet_to" doc:"quiet hours end, HH:MM (default 08:00); equal to quiet_from: no quiet hours"`
	PerMinute  int        `json:"per_minute" doc:"members queued per minute at most, 1–1000000 (default 60000)"`
}

// Campaign is a campaign with its progress.
type Campaign struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	SegmentID     int64      `json:"segment_id"`
	Title         string     `json:"title"`
	Body          string     `json:"body"`
	Page          string     `json:"page"`
	State         string     `json:"state" enum:"draft,scheduled,running,cancelled,done"`
	StartAt       *time.Time `json:"start_at"`
	PerDayCap     int        `json:"per_day_cap"`
	PerWeekCap    int        `json:"per_week_cap"`
	QuietFrom     string     `json:"quiet_from"`
	QuietTo       string     `json:"quiet_to"`
	PerMinute     int        `json:"per_minute"`
	Queued        int64      `json:"queued" doc:"members whose message was queued"`
	SkippedCap    int64      `json:"skipped_cap" doc:"members skipped: they had their campaign messages for the day or week"`
	SkippedOptOut int64      `json:"skipped_opt_out" doc:"members skipped: they unsubscribed from marketing"`
	FinishedAt    *time.Time `json:"finished_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

func minuteOf(s string, def int) (int, bool) {
	if s == "" {
		return def, true
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

func hhmm(m int) string { return time.Date(2000, 1, 1, m/60, m%60, 0, 0, time.UTC).Format("15:04") }

type checked struct {
	Input
	perDay, perWeek, from, to, perMinute int
}

func (in Input) check() (checked, error) {
	c := checked{Input: in, perDay: 1, perWeek: 3, perMinute: 60000}
	if in.PerDayCap != nil {
		c.perDay = *in.PerDayCap
	}
	if in.PerWeekCap != nil {
		c.perWeek = *in.PerWeekCap
	}
	if in.PerMinute != 0 {
		c.perMinute = in.PerMinute
	}
	var v errs.Validator
	var ok1, ok2 bool
	c.from, ok1 = minuteOf(in.QuietFrom, 22*60)
	c.to, ok2 = minuteOf(in.QuietTo, 8*60)
	runes := func(s string) int { return len([]rune(strings.TrimSpace(s))) }
	v.Check(runes(in.Name) >= 1 && runes(in.Name) <= 60, "name", "must be 1 to 60 characters")
	v.Check(in.SegmentID > 0, "segment_id", "must be a saved segment's id")
	v.Check(runes(in.Title) >= 1 && runes(in.Title) <= 20, "title", "must be 1 to 20 characters")
	v.Check(runes(in.Body) >= 1 && runes(in.Body) <= 200, "body", "must be 1 to 200 characters")
	v.Check(len(in.Page) <= 256 && !strings.HasPrefix(in.Page, "/") && !strings.Contains(in.Page, "://"), "page", "a mini-program path such as pages/index/index")
	v.Check(c.perDay >= 0 && c.perDay <= 100, "per_day_cap", "must be 0 to 100")
	v.Check(c.perWeek >= 0 && c.perWeek <= 100, "per_week_cap", "must be 0 to 100")
	v.Check(ok1, "quiet_from", "must be HH:MM")
	v.Check(ok2, "quiet_to", "must be HH:MM")
	v.Check(c.perMinute >= 1 && c.perMinute <= 1000000, "per_minute", "must be 1 to 1000000")
	return c, v.Err()
}

// Create saves a draft campaign to a segment of the shop.
func (s *Service) Create(ctx context.Context, shopID int64, in Input) (Campaign, error) {
	c, err := in.check()
	if err != nil {
		return Campaign{}, err
	}
	if _, err := s.segments.MemberIDs(ctx, shopID, in.SegmentID, 0, 1); err != nil {
		return Campaign{}, err // an unknown or another shop's segment
	}
	now := s.now().UnixMilli()
	var start *int64
	if in.StartAt != nil {
		ms := in.StartAt.UnixMilli()
		start = &ms
	}
	var id int64
	err = s.db.QueryRow(ctx, `INSERT INTO campaigns (shop_id, name, segment_id, title, body, page, start_at, per_day_cap, per_week_cap,
		quiet_from, quiet_to, per_minute, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, strings.TrimSpace(in.Name), in.SegmentID, strings.TrimSpace(in.Title), strings.TrimSpace(in.Body), in.Page, start,
		c.perDay, c.perWeek, c.from, c.to, c.perMinute, now, now).Scan(&id)
	if err != nil {
		return Campaign{}, errs.Wrap("create campaign", err)
	}
	return s.Get(ctx, shopID, id)
}

const campaignColumns = `id, name, segment_id, title, body, page, state, start_at, per_day_cap, per_week_cap, quiet_from, quiet_to,
	per_minute, queued, skipped_cap, skipped_optout, finished_at, created_at`

type row struct {
	Campaign
	shopID   int64
	cursor   int64
	from, to int
	startMs  *int64
}

func scan(r db.Scanner) (row, error) {
	var c row
	var finished *int64
	var created int64
	err := r.Scan(&c.ID, &c.Name, &c.SegmentID, &c.Title, &c.Body, &c.Page, &c.State, &c.startMs, &c.PerDayCap, &c.PerWeekCap,
		&c.from, &c.to, &c.PerMinute, &c.Queued, &c.SkippedCap, &c.SkippedOptOut, &finished, &created)
	c.QuietFrom, c.QuietTo = hhmm(c.from), hhmm(c.to)
	c.StartAt, c.FinishedAt = msTime(c.startMs), msTime(finished)
	c.CreatedAt = time.UnixMilli(created).UTC()
	return c, err
}

func msTime(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := time.UnixMilli(*ms).UTC()
	return &t
}

var errNotFound = errs.E(errs.NotFound, "campaign_not_found", "no such campaign")

// Get is one of the shop's campaigns.
func (s *Service) Get(ctx context.Context, shopID, id int64) (Campaign, error) {
	c, err := scan(s.db.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE shop_id = ? AND id = ?`, shopID, id))
	if db.IsNoRows(err) {
		return Campaign{}, errNotFound
	}
	return c.Campaign, errs.Wrap("campaign", err)
}

// List pages through the shop's campaigns, newest first.
func (s *Service) List(ctx context.Context, shopID, after int64, limit int) ([]Campaign, error) {
	rows, err := db.All(ctx, s.db, scan, `SELECT `+campaignColumns+` FROM campaigns WHERE shop_id = ? AND (? = 0 OR id < ?)
		ORDER BY id DESC LIMIT ?`, shopID, after, after, limit+1)
	out := make([]Campaign, len(rows))
	for i, r := range rows {
		out[i] = r.Campaign
	}
	return out, errs.Wrap("campaigns", err)
}

// Start schedules a draft: it runs from its start time (now when none).
func (s *Service) Start(ctx context.Context, shopID, id int64) (Campaign, error) {
	now := s.now().UnixMilli()
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE campaigns SET state = 'scheduled', start_at = COALESCE(start_at, ?), updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'draft'`, now, now, shopID, id))
	if db.IsNoRows(err) {
		if _, gerr := s.Get(ctx, shopID, id); gerr != nil {
			return Campaign{}, gerr
		}
		return Campaign{}, errs.E(errs.Conflict, "campaign_not_draft", "only a draft campaign can be started")
	}
	if err != nil {
		return Campaign{}, errs.Wrap("start campaign", err)
	}
	return s.Get(ctx, shopID, id)
}

// Cancel stops a campaign: no member is queued after it (messages already
// queued still go).
func (s *Service) Cancel(ctx context.Context, shopID, id int64) (Campaign, error) {
	now := s.now().UnixMilli()
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE campaigns SET state = 'cancelled', finished_at = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state IN ('draft', 'scheduled', 'running')`, now, now, shopID, id))
	if db.IsNoRows(err) {
		if _, gerr := s.Get(ctx, shopID, id); gerr != nil {
			return Campaign{}, gerr
		}
		return Campaign{}, errs.E(errs.Conflict, "campaign_finished", "the campaign is done or cancelled already")
	}
	if err != nil {
		return Campaign{}, errs.Wrap("cancel campaign", err)
	}
	return s.Get(ctx, shopID, id)
}

// quiet says whether minute m of the China day is in [from, to) (which may
// wrap past midnight; from == to: never).
func quiet(m, from, to int) bool {
	switch {
	case from == to:
		return false
	case from < to:
		return m >= from && m < to
	}
	return m >= from || m < to
}

// RunKind is the job that queues campaigns' members.
const RunKind = "campaign.run"

// runEvery is how often the job runs: each pass queues a campaign's
// per-minute share of this interval.
const runEvery = 10 * time.Second

// RegisterJobs runs due campaigns every 10 s on one process of the cluster.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Every(RunKind, runEvery, func(ctx context.Context, _ jobs.Job) error {
		_, err := s.RunDue(ctx)
		return err
	})
}

// RunDue moves every due campaign one batch on and reports how many
// members it handled.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	now := s.now()
	due, err := db.All(ctx, s.db, func(r db.Scanner) (row, error) {
		var c row
		err := r.Scan(&c.shopID, &c.ID, &c.SegmentID, &c.Title, &c.Body, &c.Page, &c.PerDayCap, &c.PerWeekCap, &c.from, &c.to, &c.PerMinute, &c.cursor)
		return c, err
	}, `SELECT shop_id, id, segment_id, title, body, page, per_day_cap, per_week_cap, quiet_from, quiet_to, per_minute, cursor_member
		FROM campaigns WHERE state IN ('scheduled', 'running') AND start_at <= ? ORDER BY id`, now.UnixMilli())
	if err != nil {
		return 0, errs.Wrap("due campaigns", err)
	}
	local := now.In(china)
	minute := local.Hour()*60 + local.Minute()
	total := 0
	for _, c := range due {
		if quiet(minute, c.from, c.to) {
			continue
		}
		n, err := s.step(ctx, c, batchOf(c.PerMinute))
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// batchOf is a pass's share of a per-minute rate (at most 2,000 a pass).
func batchOf(perMinute int) int {
	n := perMinute * int(runEvery/time.Second) / 60
	return min(max(n, 1), 2000)
}

// step queues the next batch of a campaign's members, or finishes it.
func (s *Service) step(ctx context.Context, c row, n int) (int, error) {
	ids, err := s.segments.MemberIDs(ctx, c.shopID, c.SegmentID, c.cursor, n)
	if err != nil {
		return 0, err
	}
	now := s.now()
	if len(ids) == 0 {
		_, err := s.db.Exec(ctx, `UPDATE campaigns SET state = 'done', finished_at = ?, updated_at = ?
			WHERE id = ? AND state IN ('scheduled', 'running') AND cursor_member = ?`, now.UnixMilli(), now.UnixMilli(), c.ID, c.cursor)
		return 0, errs.Wrap("finish campaign", err)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE campaigns SET state = 'running', cursor_member = ?, updated_at = ?
			WHERE id = ? AND state IN ('scheduled', 'running') AND cursor_member = ?`, ids[len(ids)-1], now.UnixMilli(), c.ID, c.cursor)
		if err := db.ExpectOne(res, err); err != nil {
			return errMoved // cancelled, or another pass took this batch
		}
		return s.queue(ctx, tx, c, ids, now)
	})
	if errors.Is(err, errMoved) {
		return 0, nil
	}
	return len(ids), err
}

var errMoved = errs.E(errs.Conflict, "campaign_moved", "the campaign moved on meanwhile")

// queue writes the batch's recipients, skipping members who opted out or
// reached a cap, and queues the others' messages.
func (s *Service) queue(ctx context.Context, tx *db.Tx, c row, ids []int64, now time.Time) error {
	optedOut, err := optOuts(ctx, tx, c.shopID, ids)
	if err != nil {
		return err
	}
	day, week, err := recentCounts(ctx, tx, c.shopID, ids, now)
	if err != nil {
		return err
	}
	var queued, capped, out int64
	for _, id := range ids {
		state := "queued"
		switch {
		case optedOut[id]:
			state, out = "opted_out", out+1
		case (c.PerDayCap > 0 && day[id] >= c.PerDayCap) || (c.PerWeekCap > 0 && week[id] >= c.PerWeekCap):
			state, capped = "capped", capped+1
		default:
			queued++
		}
		if _, err := tx.Exec(ctx, `INSERT INTO campaign_recipients (campaign_id, member_id, shop_id, state, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, id, c.shopID, state, now.UnixMilli()); err != nil {
			return errs.Wrap("campaign recipient", err)
		}
		if state == "queued" {
			if err := s.notify(ctx, tx, Message{ShopID: c.shopID, MemberID: id, CampaignID: c.ID, Title: c.Title, Body: c.Body, Page: c.Page}); err != nil {
				return err
			}
		}
	}
	_, err = tx.Exec(ctx, `UPDATE campaigns SET queued = queued + ?, skipped_cap = skipped_cap + ?, skipped_optout = skipped_optout + ? WHERE id = ?`,
		queued, capped, out, c.ID)
	return errs.Wrap("campaign counts", err)
}

// in is "(?, ?, …)" for n values and the values as arguments.
func in(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")", args
}

// optOuts are the members among ids who unsubscribed from marketing
// messages (退订, the SMS room's list: one list for every channel).
func optOuts(ctx context.Context, q db.Querier, shopID int64, ids []int64) (map[int64]bool, error) {
	list, args := in(ids)
	rows, err := db.All(ctx, q, func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT member_id FROM sms_optouts WHERE shop_id = ? AND member_id IN `+list, append([]any{shopID}, args...)...)
	out := map[int64]bool{}
	for _, id := range rows {
		out[id] = true
	}
	return out, errs.Wrap("opt-outs", err)
}

// recentCounts are the campaign messages each member among ids was queued
// in the last day and the last 7 days, across campaigns.
func recentCounts(ctx context.Context, q db.Querier, shopID int64, ids []int64, now time.Time) (day, week map[int64]int, err error) {
	list, args := in(ids)
	type count struct {
		id        int64
		day, week int
	}
	dayAgo, weekAgo := now.Add(-24*time.Hour).UnixMilli(), now.Add(-7*24*time.Hour).UnixMilli()
	rows, err := db.All(ctx, q, func(r db.Scanner) (count, error) {
		var c count
		return c, r.Scan(&c.id, &c.day, &c.week)
	}, `SELECT member_id, CAST(SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END) AS INTEGER), CAST(COUNT(*) AS INTEGER)
		FROM campaign_recipients WHERE shop_id = ? AND state = 'queued' AND created_at >= ? AND member_id IN `+list+` GROUP BY member_id`,
		append([]any{dayAgo, shopID, weekAgo}, args...)...)
	day, week = map[int64]int{}, map[int64]int{}
	for _, c := range rows {
		day[c.id], week[c.id] = c.day, c.week
	}
	return day, week, errs.Wrap("recent campaign messages", err)
}

// Results are a campaign's progress and its messages by outcome.
type Results struct {
	Campaign Campaign         `json:"campaign"`
	Messages map[string]int64 `json:"messages" doc:"its queued messages by state and channel (sent/inbox, sent/subscription, pending, dead …)"`
}

// ResultsOf reads a campaign's results.
func (s *Service) ResultsOf(ctx context.Context, shopID, id int64) (Results, error) {
	c, err := s.Get(ctx, shopID, id)
	if err != nil {
		return Results{}, err
	}
	type tally struct {
		key string
		n   int64
	}
	rows, err := db.All(ctx, s.db, func(r db.Scanner) (tally, error) {
		var state, channel string
		var t tally
		err := r.Scan(&state, &channel, &t.n)
		t.key = state
		if channel != "" {
			t.key += "/" + channel
		}
		return t, err
	}, `SELECT state, channel, COUNT(*) FROM messages WHERE shop_id = ? AND kind = 'campaign' AND ref_id = ? GROUP BY state, channel`, shopID, id)
	out := Results{Campaign: c, Messages: map[string]int64{}}
	for _, t := range rows {
		out.Messages[t.key] = t.n
	}
	return out, errs.Wrap("campaign results", err)
}

// DryRun is what starting a campaign now would do.
type DryRun struct {
	Members  int64 `json:"members" doc:"the segment's members now"`
	OptedOut int64 `json:"opted_out" doc:"of them, unsubscribed from marketing"`
	Capped   int64 `json:"capped" doc:"of them, at a frequency cap today"`
	WouldGet int64 `json:"would_get" doc:"members who would get it"`
}

// dryRunLimit bounds the members a dry run reads.
const dryRunLimit = 1_000_000

// DryRunOf counts a campaign's segment as it would be sent now.
func (s *Service) DryRunOf(ctx context.Context, shopID, id int64) (DryRun, error) {
	c, err := scan(s.db.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE shop_id = ? AND id = ?`, shopID, id))
	if db.IsNoRows(err) {
		return DryRun{}, errNotFound
	}
	if err != nil {
		return DryRun{}, errs.Wrap("campaign", err)
	}
	var out DryRun
	now := s.now()
	for after := int64(0); out.Members < dryRunLimit; {
		ids, err := s.segments.MemberIDs(ctx, shopID, c.SegmentID, after, 1000)
		if err != nil || len(ids) == 0 {
			return out, err
		}
		opted, err := optOuts(ctx, s.db, shopID, ids)
		if err != nil {
			return out, err
		}
		day, week, err := recentCounts(ctx, s.db, shopID, ids, now)
		if err != nil {
			return out, err
		}
		for _, m := range ids {
			switch {
			case opted[m]:
				out.OptedOut++
			case (c.PerDayCap > 0 && day[m] >= c.PerDayCap) || (c.PerWeekCap > 0 && week[m] >= c.PerWeekCap):
				out.Capped++
			default:
				out.WouldGet++
			}
		}
		out.Members += int64(len(ids))
		after = ids[len(ids)-1]
	}
	return out, nil
}
