package achievements

import (
	"context"
	"fmt"
	"time"

	"github.com/kaidian/kaidian/internal/checkin"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// The new-member tasks.
const (
	TaskProfile       = "profile"        // nickname and birthday set
	TaskPhone         = "phone"          // phone number bound
	TaskFirstPurchase = "first_purchase" // an order paid
	TaskFirstCheckin  = "first_checkin"  // a check-in (not a make-up)
)

// WindowDays is the new-member week: the signup day (Asia/Shanghai) and
// the six days after it. An event on a later day completes nothing, even
// when it is the member's first: a late event (a payment applied after the
// week) is judged by the day it is applied.
const WindowDays = 7

// MaxTaskPoints bounds a task's reward.
const MaxTaskPoints = 1_000_000

type taskDef struct {
	Task, Title string
	Points      int64 // the suggested reward, shown to staff until they save one
}

var taskDefs = []taskDef{
	{TaskProfile, "Complete your profile (nickname and birthday)", 20},
	{TaskPhone, "Bind your phone number", 20},
	{TaskFirstPurchase, "Make your first purchase", 50},
	{TaskFirstCheckin, "Check in for the first time", 10},
}

// TaskSetting is a task as staff set it.
type TaskSetting struct {
	Task    string `json:"task" enum:"profile,phone,first_purchase,first_checkin"`
	Title   string `json:"title"`
	Enabled bool   `json:"enabled"`
	Points  int64  `json:"points" doc:"points rewarded once on completion (0: none)"`
}

// TaskSettings is the shop's new-member tasks.
type TaskSettings struct {
	Tasks      []TaskSetting `json:"tasks"`
	WindowDays int           `json:"window_days" doc:"the tasks are open on the signup day and the days after it, Asia/Shanghai"`
}

// TaskInput changes one task.
type TaskInput struct {
	Task    string `json:"task" enum:"profile,phone,first_purchase,first_checkin"`
	Enabled bool   `json:"enabled"`
	Points  int64  `json:"points" doc:"0 to 1000000"`
}

// TasksInput changes some of the tasks; the others keep their settings.
type TasksInput struct {
	Tasks []TaskInput `json:"tasks"`
}

// Tasks reads the shop's task settings.
func (s *Service) Tasks(ctx context.Context, shopID int64) (TaskSettings, error) {
	list, err := taskSettings(ctx, s.db, shopID)
	return TaskSettings{Tasks: list, WindowDays: WindowDays}, errs.Wrap("read tasks", err)
}

func taskSettings(ctx context.Context, q db.Querier, shopID int64) ([]TaskSetting, error) {
	type row struct {
		task    string
		enabled bool
		points  int64
	}
	rows, err := db.All(ctx, q, func(r db.Scanner) (row, error) {
		var x row
		return x, r.Scan(&x.task, &x.enabled, &x.points)
	}, `SELECT task, enabled, points FROM achievement_tasks WHERE shop_id = ?`, shopID)
	if err != nil {
		return nil, err
	}
	out := make([]TaskSetting, len(taskDefs))
	for i, d := range taskDefs {
		// Off until staff turn it on: a shop gives no points it did not choose.
		out[i] = TaskSetting{Task: d.Task, Title: d.Title, Enabled: false, Points: d.Points}
		for _, r := range rows {
			if r.task == d.Task {
				out[i].Enabled, out[i].Points = r.enabled, r.points
			}
		}
	}
	return out, nil
}

func knownTask(task string) bool {
	for _, d := range taskDefs {
		if d.Task == task {
			return true
		}
	}
	return false
}

// SaveTasks changes the named tasks' settings.
func (s *Service) SaveTasks(ctx context.Context, shopID int64, in TasksInput) (TaskSettings, error) {
	var v errs.Validator
	v.Check(len(in.Tasks) >= 1 && len(in.Tasks) <= len(taskDefs), "tasks", fmt.Sprintf("must name 1 to %d tasks", len(taskDefs)))
	seen := map[string]bool{}
	for i, t := range in.Tasks {
		f := fmt.Sprintf("tasks[%d]", i)
		v.Check(knownTask(t.Task), f+".task", "must be profile, phone, first_purchase or first_checkin")
		v.Check(!seen[t.Task], f+".task", "names a task twice")
		v.Check(t.Points >= 0 && t.Points <= MaxTaskPoints, f+".points", "must be 0 to 1000000")
		seen[t.Task] = true
	}
	if err := v.Err(); err != nil {
		return TaskSettings{}, err
	}
	now := s.now().UnixMilli()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, t := range in.Tasks {
			if _, err := tx.Exec(ctx, `INSERT INTO achievement_tasks (shop_id, task, enabled, points, updated_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (shop_id, task) DO UPDATE SET enabled = excluded.enabled, points = excluded.points, updated_at = excluded.updated_at`,
				shopID, t.Task, t.Enabled, t.Points, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return TaskSettings{}, errs.Wrap("save tasks", err)
	}
	return s.Tasks(ctx, shopID)
}

// signupDay is the member's signup day (Asia/Shanghai).
func signupDay(ctx context.Context, q db.Querier, shopID, memberID int64) (checkin.Day, error) {
	var created int64
	err := q.QueryRow(ctx, `SELECT created_at FROM members WHERE id = ? AND shop_id = ?`, memberID, shopID).Scan(&created)
	return checkin.DayOf(time.UnixMilli(created)), err
}

// complete marks the member's task done on day and gives its reward, once,
// when day falls in the member's first week and the task is enabled.
func (s *Service) complete(ctx context.Context, tx *db.Tx, shopID, memberID int64, task string, day checkin.Day) error {
	signup, err := signupDay(ctx, tx, shopID, memberID)
	if err != nil {
		return err
	}
	if day < signup || day >= signup+WindowDays {
		return nil // outside the first week: a late event completes nothing
	}
	list, err := taskSettings(ctx, tx, shopID)
	if err != nil {
		return err
	}
	var set TaskSetting
	for _, t := range list {
		if t.Task == task {
			set = t
		}
	}
	if !set.Enabled {
		return nil
	}
	var got string
	err = tx.QueryRow(ctx, `INSERT INTO member_tasks (shop_id, member_id, task, points, completed_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, member_id, task) DO NOTHING RETURNING task`,
		shopID, memberID, task, set.Points, s.now().UnixMilli()).Scan(&got)
	if db.IsNoRows(err) {
		return nil // done before
	}
	if err != nil || set.Points == 0 || s.rewards == nil {
		return err
	}
	return s.rewards.Earn(ctx, tx, shopID, memberID, set.Points, "task", task, fmt.Sprintf("task:%d:%s", memberID, task))
}

// ProfileChanged completes the profile and phone tasks the member's
// profile now satisfies (member's OnProfileChanged, after the change
// committed; also run when the buyer reads the tasks, so a lost hook is
// made up while the week lasts).
func (s *Service) ProfileChanged(ctx context.Context, shopID, memberID int64) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var nickname, birthday, phone string
		if err := tx.QueryRow(ctx, `SELECT nickname, birthday, phone FROM members WHERE id = ? AND shop_id = ?`,
			memberID, shopID).Scan(&nickname, &birthday, &phone); err != nil {
			return err
		}
		today := checkin.DayOf(s.now())
		if nickname != "" && birthday != "" {
			if err := s.complete(ctx, tx, shopID, memberID, TaskProfile, today); err != nil {
				return err
			}
		}
		if phone != "" {
			return s.complete(ctx, tx, shopID, memberID, TaskPhone, today)
		}
		return nil
	})
	return errs.Wrap("profile tasks", err)
}

// MemberTasks is the buyer's view of the new-member tasks.
func (s *Service) MemberTasks(ctx context.Context, shopID, memberID int64) (BuyerTasks, error) {
	signup, err := signupDay(ctx, s.db, shopID, memberID)
	if err != nil {
		return BuyerTasks{}, errs.Wrap("read tasks", err)
	}
	open := checkin.DayOf(s.now()) < signup+WindowDays
	out, pending, err := s.memberTasks(ctx, shopID, memberID, signup, open)
	if err != nil || !open || !pending {
		return out, err
	}
	// A profile or phone task still open: look at the profile (a lost hook
	// is made up here), then read again.
	if err := s.ProfileChanged(ctx, shopID, memberID); err != nil {
		return BuyerTasks{}, err
	}
	out, _, err = s.memberTasks(ctx, shopID, memberID, signup, open)
	return out, err
}

// memberTasks reads the buyer's tasks; pending is true when an enabled
// profile or phone task is still open.
func (s *Service) memberTasks(ctx context.Context, shopID, memberID int64, signup checkin.Day, open bool) (out BuyerTasks, pending bool, err error) {
	list, err := taskSettings(ctx, s.db, shopID)
	if err != nil {
		return BuyerTasks{}, false, errs.Wrap("read tasks", err)
	}
	type done struct {
		task       string
		points, at int64
	}
	dones, err := db.All(ctx, s.db, func(r db.Scanner) (done, error) {
		var d done
		return d, r.Scan(&d.task, &d.points, &d.at)
	}, `SELECT task, points, completed_at FROM member_tasks WHERE shop_id = ? AND member_id = ?`, shopID, memberID)
	if err != nil {
		return BuyerTasks{}, false, errs.Wrap("read tasks", err)
	}
	out = BuyerTasks{EndsAt: (signup + WindowDays).Date().UTC(), Open: open, Tasks: []BuyerTask{}}
	for _, t := range list {
		bt := BuyerTask{Task: t.Task, Title: t.Title, Points: t.Points, Status: StatusOpen}
		for _, d := range dones {
			if d.task == t.Task {
				at := time.UnixMilli(d.at).UTC()
				bt.Status, bt.Points, bt.CompletedAt = StatusDone, d.points, &at
			}
		}
		if bt.Status == StatusOpen && !t.Enabled {
			continue
		}
		if bt.Status == StatusOpen && !open {
			bt.Status = StatusExpired
		}
		if bt.Status == StatusOpen && (t.Task == TaskProfile || t.Task == TaskPhone) {
			pending = true
		}
		out.Tasks = append(out.Tasks, bt)
	}
	return out, pending, nil
}
