package checkin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Limits of a rule set.
const (
	MaxRewards        = 31
	MaxRewardDay      = 366
	MaxPoints         = 100_000
	MaxMakeupDays     = 30
	MaxMakeupPerMonth = 31
)

// Reward is the points a check-in earns on reaching streak day Day.
type Reward struct {
	Day    int    `json:"day" doc:"the streak day it fires on, 1 to 366"`
	Points int64  `json:"points" doc:"0 to 100000"`
	Label  string `json:"label" doc:"at most 20 characters, shown to buyers"`
}

// RulesInput is a rule set as staff send it.
type RulesInput struct {
	DailyPoints int64    `json:"daily_points" doc:"what a check-in earns on a day no reward names, 0 to 100000"`
	Rewards     []Reward `json:"rewards" doc:"at most 31, each day once; a reward replaces the daily points on its day"`
	Cyclic      bool     `json:"cyclic" doc:"after the last reward's day the ladder starts again: with rewards up to day 7, streak day 8 counts as day 1"`
	MakeupDays  int      `json:"makeup_days" doc:"how many days back a make-up card reaches, 0 (no make-ups) to 30"`
	// MakeupPerMonth counts uses in the Shanghai month of the use.
	MakeupPerMonth int `json:"makeup_per_month" doc:"make-ups a member may use per month, 0 to 31"`
}

// Rules is one version of a shop's rule set. Version 0 is the built-in
// default a shop has before its first save.
type Rules struct {
	Version int64 `json:"version"`
	RulesInput
	CreatedBy int64      `json:"created_by" doc:"the staff member who saved it (0 for the defaults)"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

// DefaultRules are the rules before a shop saves its own: no points (points
// are worth money, so staff decide), make-ups 3 days back, 2 a month.
func DefaultRules() Rules {
	return Rules{RulesInput: RulesInput{Rewards: []Reward{}, MakeupDays: 3, MakeupPerMonth: 2}}
}

// validate checks in and sorts its rewards by day.
func (in *RulesInput) validate() error {
	if in.Rewards == nil {
		in.Rewards = []Reward{}
	}
	if len(in.Rewards) > MaxRewards {
		return errs.Field("rewards", "too_many_rewards", fmt.Sprintf("at most %d rewards", MaxRewards))
	}
	seen := map[int]bool{}
	for i := range in.Rewards {
		r := &in.Rewards[i]
		if seen[r.Day] {
			return errs.Field(fmt.Sprintf("rewards[%d].day", i), "reward_day_duplicate",
				fmt.Sprintf("streak day %d has two rewards; each day takes one", r.Day))
		}
		seen[r.Day] = true
		r.Label = strings.TrimSpace(r.Label)
	}
	var v errs.Validator
	v.Check(in.DailyPoints >= 0 && in.DailyPoints <= MaxPoints, "daily_points", "must be 0 to 100000")
	v.Check(in.MakeupDays >= 0 && in.MakeupDays <= MaxMakeupDays, "makeup_days", "must be 0 to 30")
	v.Check(in.MakeupPerMonth >= 0 && in.MakeupPerMonth <= MaxMakeupPerMonth, "makeup_per_month", "must be 0 to 31")
	for i, r := range in.Rewards {
		f := fmt.Sprintf("rewards[%d].", i)
		v.Check(r.Day >= 1 && r.Day <= MaxRewardDay, f+"day", "must be 1 to 366")
		v.Check(r.Points >= 0 && r.Points <= MaxPoints, f+"points", "must be 0 to 100000")
		v.Check(utf8.RuneCountInString(r.Label) <= 20, f+"label", "must be at most 20 characters")
	}
	if err := v.Err(); err != nil {
		return err
	}
	slices.SortFunc(in.Rewards, func(a, b Reward) int { return a.Day - b.Day })
	return nil
}

// ladderDay is the streak day the rewards are matched against: the streak
// itself, or with cyclic rules its place in the repeating ladder.
func (r Rules) ladderDay(streak int) int {
	if !r.Cyclic || len(r.Rewards) == 0 {
		return streak
	}
	last := r.Rewards[len(r.Rewards)-1].Day
	return (streak-1)%last + 1
}

// For is what a check-in reaching streak earns, and the reward's label
// (empty for the daily points).
func (r Rules) For(streak int) (int64, string) {
	day := r.ladderDay(streak)
	for _, rw := range r.Rewards {
		if rw.Day == day {
			return rw.Points, rw.Label
		}
	}
	return r.DailyPoints, ""
}

// next is the first reward at or after streak day from, and how many
// check-ins after the next one it is (0: the next check-in earns it).
func (r Rules) next(from int) (Reward, int, bool) {
	if len(r.Rewards) == 0 {
		return Reward{}, 0, false
	}
	horizon := MaxRewardDay
	if r.Cyclic {
		horizon = r.Rewards[len(r.Rewards)-1].Day
	}
	for k := 0; k < horizon; k++ {
		day := r.ladderDay(from + k)
		for _, rw := range r.Rewards {
			if rw.Day == day {
				rw.Day = from + k
				return rw, k, true
			}
		}
	}
	return Reward{}, 0, false
}

// CurrentRules returns the shop's newest rules (the defaults before any save).
func (s *Service) CurrentRules(ctx context.Context, shopID int64) (Rules, error) {
	r, err := currentRules(ctx, s.db, shopID)
	return r, errs.Wrap("checkin rules", err)
}

func currentRules(ctx context.Context, q db.Querier, shopID int64) (Rules, error) {
	r, err := scanRules(q.QueryRow(ctx, `SELECT `+ruleColumns+` FROM checkin_rule_versions
		WHERE shop_id = ? ORDER BY version DESC LIMIT 1`, shopID))
	if db.IsNoRows(err) {
		return DefaultRules(), nil
	}
	return r, err
}

// SaveRules validates in and stores it as the shop's next version.
func (s *Service) SaveRules(ctx context.Context, shopID, staffID int64, in RulesInput) (Rules, error) {
	if err := in.validate(); err != nil {
		return Rules{}, err
	}
	rewards, err := json.Marshal(in.Rewards)
	if err != nil {
		return Rules{}, errs.Wrap("encode rewards", err)
	}
	for attempt := 0; ; attempt++ {
		err = s.db.InTx(ctx, func(tx *db.Tx) error {
			var version int64
			err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM checkin_rule_versions WHERE shop_id = ?`, shopID).Scan(&version)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO checkin_rule_versions (shop_id, version, daily_points, cyclic, makeup_days,
				makeup_per_month, rewards, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				shopID, version, in.DailyPoints, in.Cyclic, in.MakeupDays, in.MakeupPerMonth, string(rewards), staffID, s.now().UnixMilli())
			return err
		})
		// Two saves at once may take the same number: the loser saves again.
		if !db.IsUniqueViolation(err) || attempt == 4 {
			break
		}
	}
	if err != nil {
		return Rules{}, errs.Wrap("save checkin rules", err)
	}
	return s.CurrentRules(ctx, shopID)
}

// RuleVersions lists the shop's saved versions, newest first, below
// version before (0 = from the newest), limit+1 of them for the page.
func (s *Service) RuleVersions(ctx context.Context, shopID, before int64, limit int) ([]Rules, error) {
	if before == 0 {
		before = 1 << 62
	}
	list, err := db.All(ctx, s.db, scanRules, `SELECT `+ruleColumns+` FROM checkin_rule_versions
		WHERE shop_id = ? AND version < ? ORDER BY version DESC LIMIT ?`, shopID, before, limit+1)
	return list, errs.Wrap("list checkin rules", err)
}

const ruleColumns = `version, daily_points, cyclic, makeup_days, makeup_per_month, rewards, created_by, created_at`

func scanRules(row db.Scanner) (Rules, error) {
	var r Rules
	var rewards string
	var created int64
	if err := row.Scan(&r.Version, &r.DailyPoints, &r.Cyclic, &r.MakeupDays, &r.MakeupPerMonth, &rewards, &r.CreatedBy, &created); err != nil {
		return Rules{}, err
	}
	t := time.UnixMilli(created).UTC()
	r.CreatedAt = &t
	if err := json.Unmarshal([]byte(rewards), &r.Rewards); err != nil {
		return Rules{}, err
	}
	if r.Rewards == nil {
		r.Rewards = []Reward{}
	}
	return r, nil
}
