// Package support is the help desk between a shop (the client) and whoever
// runs its mini program (the deployment's operator or an agency): tickets
// with priority, the page they came from and screenshots, replies, and
// deadlines kept in working time by the shop's SLA policy — the first
// response due when the ticket opens (an update never moves it), the
// resolution due later by the working time spent waiting for the client.
package support

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/kaidian/kaidian/internal/platform/chinaday"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/workcal"
)

// Priorities, most urgent first.
var Priorities = []string{"p1", "p2", "p3", "p4"}

// Target is what a priority promises, in working minutes.
type Target struct {
	Response   int `json:"response" doc:"working minutes to the first answer"`
	Resolution int `json:"resolution" doc:"working minutes to the resolution, not counting time waiting for the client"`
}

// Policy is a shop's SLA: its working hours, targets per priority and its
// own days over the built-in holidays.
type Policy struct {
	Hours       [][2]int          `json:"hours" doc:"working intervals of a day, [from, to) in minutes after midnight, Asia/Shanghai: [[540,720],[810,1080]] is 09:00–12:00 and 13:30–18:00"`
	Targets     map[string]Target `json:"targets" doc:"per priority p1…p4"`
	Days        map[string]bool   `json:"days" doc:"staff's own days (2027-01-01: false = off, true = worked) over the built-in holidays and make-up working days"`
	DataVersion string            `json:"data_version" doc:"version of the built-in holiday data (npm chinese-days)"`
}

// DefaultPolicy is the SLA a shop has until staff set one: office hours,
// a crash (p1) answered within 2 working hours and solved within a working
// day, an ordinary issue (p3) answered within a working day and solved
// within three.
func DefaultPolicy() Policy {
	return Policy{Hours: [][2]int{{540, 720}, {810, 1080}}, Days: map[string]bool{}, DataVersion: workcal.DataVersion,
		Targets: map[string]Target{
			"p1": {Response: 120, Resolution: 450},
			"p2": {Response: 240, Resolution: 900},
			"p3": {Response: 450, Resolution: 1350},
			"p4": {Response: 900, Resolution: 2250},
		}}
}

// calendar builds the policy's working calendar; a policy with no working
// time is refused.
func (p Policy) calendar() (*workcal.Calendar, error) {
	hours := make([]workcal.Interval, len(p.Hours))
	for i, h := range p.Hours {
		hours[i] = workcal.Interval{From: h[0], To: h[1]}
	}
	days := map[chinaday.Day]bool{}
	for s, worked := range p.Days {
		d, ok := chinaday.Parse(s)
		if !ok {
			return nil, errs.Field("days", "invalid_day", fmt.Sprintf("%q is not a day (2006-01-02, years 2000–2100)", s))
		}
		days[d] = worked
	}
	c, err := workcal.New(hours, days)
	if err != nil {
		return nil, errs.Field("hours", "calendar_no_working_time", "the working hours must be intervals within a day, not overlapping, with some working time: "+err.Error())
	}
	return c, nil
}

// check refuses a policy that could not give deadlines.
func (p Policy) check() error {
	if _, err := p.calendar(); err != nil {
		return err
	}
	for _, pr := range Priorities {
		t, ok := p.Targets[pr]
		if !ok || t.Response <= 0 || t.Resolution < t.Response || t.Resolution > 100*24*60 {
			return errs.Field("targets", "invalid_targets", "each of p1…p4 needs a response above 0 and a resolution at least as long (working minutes, at most 100 days' worth)")
		}
	}
	if len(p.Targets) != len(Priorities) || len(p.Days) > 1000 || len(p.Hours) > 8 {
		return errs.Field("targets", "invalid_targets", "targets are for p1…p4 only; at most 8 intervals and 1,000 days")
	}
	return nil
}

// Policy returns the shop's SLA policy (the default until one is set).
func (s *Service) Policy(ctx context.Context, shopID int64) (Policy, error) {
	return policyOf(ctx, s.db, shopID)
}

func policyOf(ctx context.Context, q db.Querier, shopID int64) (Policy, error) {
	var hours, targets, days string
	err := q.QueryRow(ctx, `SELECT hours, targets, days FROM sla_policies WHERE shop_id = ?`, shopID).Scan(&hours, &targets, &days)
	if db.IsNoRows(err) {
		return DefaultPolicy(), nil
	}
	if err != nil {
		return Policy{}, err
	}
	p := Policy{DataVersion: workcal.DataVersion}
	if err := json.Unmarshal([]byte(hours), &p.Hours); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(targets), &p.Targets); err != nil {
		return p, err
	}
	return p, json.Unmarshal([]byte(days), &p.Days)
}

// SetPolicy replaces the shop's SLA policy. Open tickets keep the
// deadlines they were given.
func (s *Service) SetPolicy(ctx context.Context, shopID, by int64, p Policy) (Policy, error) {
	if p.Days == nil {
		p.Days = map[string]bool{}
	}
	sort.Slice(p.Hours, func(i, j int) bool { return p.Hours[i][0] < p.Hours[j][0] })
	if err := p.check(); err != nil {
		return Policy{}, err
	}
	hours, _ := json.Marshal(p.Hours)
	targets, _ := json.Marshal(p.Targets)
	days, _ := json.Marshal(p.Days)
	_, err := s.db.Exec(ctx, `INSERT INTO sla_policies (shop_id, hours, targets, days, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET hours = excluded.hours, targets = excluded.targets, days = excluded.days,
		updated_by = excluded.updated_by, updated_at = excluded.updated_at`, shopID, string(hours), string(targets), string(days), by, s.now().UnixMilli())
	p.DataVersion = workcal.DataVersion
	return p, err
}
