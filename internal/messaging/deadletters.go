package messaging

import (
	"context"
	"errors"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Message is a message as staff see it, with its attempts.
type Message struct {
	ID         int64      `json:"id"`
	MemberID   int64      `json:"member_id"`
	Kind       string     `json:"kind" enum:"order_paid,order_shipped,order_refunded,membership_expiring,level_falling,points_expiring"`
	OrderID    int64      `json:"order_id"`
	State      string     `json:"state" enum:"pending,sending,sent,dead"`
	Channel    string     `json:"channel" doc:"subscription, sms or inbox; empty before a channel was chosen"`
	TemplateID string     `json:"template_id"`
	Attempts   int        `json:"attempts"`
	ErrCode    int        `json:"errcode" doc:"WeChat's errcode of the last attempt (47003 also for keywords refused before sending)"`
	Reason     string     `json:"reason"`
	SentAt     *time.Time `json:"sent_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Log        []Attempt  `json:"log,omitempty" doc:"every attempt, oldest first (one message only)"`
}

// Attempt is one try at a channel.
type Attempt struct {
	Channel   string    `json:"channel"`
	Outcome   string    `json:"outcome" doc:"sent, delivered (inbox), retry, refused, refused_locally, gave_up"`
	ErrCode   int       `json:"errcode"`
	Error     string    `json:"error"`
	CreatedAt time.Time `json:"created_at"`
}

const messageColumns = `id, member_id, kind, ref_id, state, channel, template_id, attempts, errcode, reason, sent_at, created_at, updated_at`

func scanMessage(r db.Scanner) (Message, error) {
	var m Message
	var sent *int64
	var created, updated int64
	err := r.Scan(&m.ID, &m.MemberID, &m.Kind, &m.OrderID, &m.State, &m.Channel, &m.TemplateID, &m.Attempts, &m.ErrCode,
		&m.Reason, &sent, &created, &updated)
	m.SentAt, m.CreatedAt, m.UpdatedAt = timeOrNil(sent), time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return m, err
}

// DeadLetters lists the messages that were refused or given up on, newest
// first.
func (s *Service) DeadLetters(ctx context.Context, shopID, after int64, limit int) ([]Message, error) {
	if after == 0 {
		after = 1 << 62
	}
	list, err := db.All(ctx, s.db, scanMessage, `SELECT `+messageColumns+` FROM messages
		WHERE shop_id = ? AND state = 'dead' AND id < ? ORDER BY id DESC LIMIT ?`, shopID, after, limit+1)
	return list, errs.Wrap("dead letters", err)
}

// Message returns one message with its attempts.
func (s *Service) Message(ctx context.Context, shopID, id int64) (Message, error) {
	m, err := scanMessage(s.db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE shop_id = ? AND id = ?`, shopID, id))
	if db.IsNoRows(err) {
		return Message{}, errMessageNotFound
	}
	if err != nil {
		return Message{}, errs.Wrap("message", err)
	}
	m.Log, err = db.All(ctx, s.db, func(r db.Scanner) (Attempt, error) {
		var a Attempt
		var at int64
		err := r.Scan(&a.Channel, &a.Outcome, &a.ErrCode, &a.Error, &at)
		a.CreatedAt = time.UnixMilli(at).UTC()
		return a, err
	}, `SELECT channel, outcome, errcode, error, created_at FROM message_attempts WHERE shop_id = ? AND message_id = ? ORDER BY id`,
		shopID, id)
	return m, errs.Wrap("message attempts", err)
}

// Retry sends a dead letter again from the start: its channel is chosen
// anew, so a buyer with no acceptance now gets it in the inbox.
func (s *Service) Retry(ctx context.Context, shopID, id int64) (Message, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE messages SET state = 'pending', channel = '', template_id = '', attempt_id = '',
			errcode = 0, reason = '', updated_at = ? WHERE shop_id = ? AND id = ? AND state = 'dead'`, s.nowMs(), shopID, id))
		if db.IsNoRows(err) {
			return errNotDead
		}
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, shopID, id)
	})
	if errors.Is(err, errNotDead) {
		if _, gerr := s.Message(ctx, shopID, id); gerr != nil {
			return Message{}, gerr
		}
		return Message{}, err
	}
	if err != nil {
		return Message{}, errs.Wrap("retry message", err)
	}
	return s.Message(ctx, shopID, id)
}

var errNotDead = errs.E(errs.Conflict, "message_not_dead", "only a dead letter can be retried")
