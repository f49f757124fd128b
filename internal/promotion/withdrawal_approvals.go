package promotion

import (
	"context"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// WithdrawalPolicy is the owner's two-person rule for withdrawals: above
// ApprovalLimit a withdrawal needs two approvals by two different staff
// before it can be paid out.
type WithdrawalPolicy struct {
	ApprovalLimit *int64 `json:"approval_limit" doc:"fen; withdrawals above it need a second person's approval; null (the default) = one approval for any amount"`
}

// limit is a shop's withdrawal limit; set is false when the shop has none.
type limit struct {
	fen int64
	set bool
}

// approvalsRequired is how many different staff must approve w.
func (l limit) approvalsRequired(w Withdrawal) int {
	if l.set && w.Amount > l.fen {
		return 2
	}
	return 1
}

// approvalsNeeded is how many approvals w still waits for. A first
// approval already given counts, whatever the limit is now.
func (l limit) approvalsNeeded(w Withdrawal) int {
	if w.Status != "requested" {
		return 0
	}
	if w.FirstApprovedBy != nil {
		return 1
	}
	return l.approvalsRequired(w)
}

func withdrawalLimit(ctx context.Context, q db.Querier, shopID int64) (limit, error) {
	var l limit
	err := q.QueryRow(ctx, `SELECT approval_limit FROM withdrawal_policies WHERE shop_id = ?`, shopID).Scan(&l.fen)
	if db.IsNoRows(err) {
		return limit{}, nil
	}
	l.set = err == nil
	return l, err
}

// WithdrawalPolicy returns a shop's withdrawal policy.
func (s *Service) WithdrawalPolicy(ctx context.Context, shopID int64) (WithdrawalPolicy, error) {
	l, err := withdrawalLimit(ctx, s.db, shopID)
	if err != nil || !l.set {
		return WithdrawalPolicy{}, errs.Wrap("withdrawal policy", err)
	}
	return WithdrawalPolicy{ApprovalLimit: &l.fen}, nil
}

// SetWithdrawalPolicy replaces a shop's withdrawal policy (a null limit
// removes it).
func (s *Service) SetWithdrawalPolicy(ctx context.Context, shopID, by int64, p WithdrawalPolicy) (WithdrawalPolicy, error) {
	var err error
	switch {
	case p.ApprovalLimit == nil:
		_, err = s.db.Exec(ctx, `DELETE FROM withdrawal_policies WHERE shop_id = ?`, shopID)
	case *p.ApprovalLimit < 0 || *p.ApprovalLimit > 100_000_000:
		return WithdrawalPolicy{}, errs.Field("approval_limit", "invalid_amount", "must be 0 to 1,000,000 yuan in fen, or null")
	default:
		_, err = s.db.Exec(ctx, `INSERT INTO withdrawal_policies (shop_id, approval_limit, updated_by, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (shop_id) DO UPDATE SET approval_limit = excluded.approval_limit, updated_by = excluded.updated_by,
				updated_at = excluded.updated_at`, shopID, *p.ApprovalLimit, by, s.now().UnixMilli())
	}
	if err != nil {
		return WithdrawalPolicy{}, errs.Wrap("withdrawal policy", err)
	}
	return s.WithdrawalPolicy(ctx, shopID)
}

// approve counts st's approval of w. With no approval yet, above the
// limit it is recorded as the first (the withdrawal stays requested);
// otherwise it approves. A second approval must come from someone else.
// Both updates compare-and-set on first_approved_by, so of two staff
// approving at once only one counts: the other gets a 409 and sees the
// new state.
func (s *Service) approve(ctx context.Context, tx *db.Tx, st auth.Staff, w Withdrawal, in DecideInput) (string, error) {
	l, err := withdrawalLimit(ctx, tx, st.ShopID)
	if err != nil {
		return "", err
	}
	by, now := "staff:"+strconv.FormatInt(st.AccountID, 10), s.now().UnixMilli()
	if w.FirstApprovedBy != nil {
		if *w.FirstApprovedBy == st.AccountID {
			return "", errs.E(errs.Forbidden, "second_approver_required",
				"you gave this withdrawal its first approval: a different person must give the second")
		}
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE withdrawals SET status = 'approved', note = ?, decided_by = ?, updated_at = ?
			WHERE id = ? AND shop_id = ? AND status = 'requested' AND first_approved_by = ?`, in.Note, by, now, w.ID, st.ShopID, *w.FirstApprovedBy))
		return "approve", changed(w, err)
	}
	status, logged := "approved", "approve"
	if l.approvalsRequired(w) == 2 {
		status, logged = "requested", "first_approval"
	}
	err = db.ExpectOne(tx.Exec(ctx, `UPDATE withdrawals SET status = ?, first_approved_by = ?, note = ?, decided_by = ?, updated_at = ?
		WHERE id = ? AND shop_id = ? AND status = 'requested' AND first_approved_by IS NULL`, status, st.AccountID, in.Note, by, now, w.ID, st.ShopID))
	return logged, changed(w, err)
}

// changed turns an approval's compare-and-set that matched no row into a
// 409: the withdrawal was decided, or approved by someone else, meanwhile.
func changed(w Withdrawal, err error) error {
	if !db.IsNoRows(err) {
		return err
	}
	if w.Status != "requested" {
		return errs.E(errs.Conflict, "illegal_transition", "a "+w.Status+" withdrawal cannot be approved")
	}
	return errs.E(errs.Conflict, "withdrawal_changed", "someone decided on this withdrawal meanwhile: reload it")
}

// WithdrawalDecision is one logged decision on a withdrawal.
type WithdrawalDecision struct {
	ID        int64     `json:"id"`
	Action    string    `json:"action" enum:"first_approval,approve,reject,pay" doc:"first_approval: the first of two approvals above the limit"`
	StaffID   int64     `json:"staff_id" doc:"staff account id of who decided"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// WithdrawalDecisions lists the decisions on a withdrawal of the shop,
// oldest first.
func (s *Service) WithdrawalDecisions(ctx context.Context, shopID, id int64) ([]WithdrawalDecision, error) {
	if _, err := s.withdrawal(ctx, shopID, id); err != nil {
		return nil, err
	}
	out, err := db.All(ctx, s.db, func(row db.Scanner) (WithdrawalDecision, error) {
		var d WithdrawalDecision
		var created int64
		err := row.Scan(&d.ID, &d.Action, &d.StaffID, &d.Note, &created)
		d.CreatedAt = time.UnixMilli(created).UTC()
		return d, err
	}, `SELECT id, action, staff_id, note, created_at FROM withdrawal_decisions WHERE shop_id = ? AND withdrawal_id = ? ORDER BY id`, shopID, id)
	return out, errs.Wrap("withdrawal decisions", err)
}
