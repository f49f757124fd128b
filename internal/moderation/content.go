package moderation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/moderation/engine"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Item statuses: published (visible), pending (in the review queue),
// rejected by staff, removed after a copyright complaint.
const (
	Published = "published"
	Pending   = "pending"
	Rejected  = "rejected"
	Removed   = "removed"
)

// kinds of content and the msg_sec_check scene of each.
var kindScenes = map[string]int{"nickname": 1, "comment": 2, "review": 2, "post": 3}

// MaxTextRunes bounds submitted text (msg_sec_check takes 2,500).
const MaxTextRunes = 2000

// Item is a piece of submitted content with its verdict.
type Item struct {
	ID           int64       `json:"id"`
	MemberID     int64       `json:"member_id"`
	Kind         string      `json:"kind" enum:"comment,review,nickname,post" doc:"comment, review, nickname or post"`
	Target       string      `json:"target" doc:"what it is about, e.g. product:12"`
	Text         string      `json:"text"`
	Status       string      `json:"status" enum:"published,pending,rejected,removed" doc:"published, pending (in review), rejected or removed"`
	Verdict      string      `json:"verdict" enum:"pass,review" doc:"the rules' verdict: pass or review"`
	Matches      []MatchView `json:"matches,omitempty"`
	WeChat       string      `json:"wechat,omitempty" doc:"msg_sec_check result (suggest:label), when the shop uses it"`
	RejectReason string      `json:"reject_reason,omitempty"`
	CreatedAt    time.Time   `json:"created_at"`
}

// MatchView is a rule match in an item, with byte offsets into its text.
type MatchView struct {
	Word     string `json:"word"`
	Category string `json:"category"`
	Level    string `json:"level" enum:"block,review,allow"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
}

// NewItem is what a buyer submits.
type NewItem struct {
	Kind   string `json:"kind" enum:"comment,review,nickname,post" doc:"comment, review, nickname or post"`
	Target string `json:"target" doc:"up to 64 characters, e.g. product:12"`
	Text   string `json:"text" doc:"1 to 2,000 characters"`
}

func (in *NewItem) validate() error {
	in.Target = strings.TrimSpace(in.Target)
	n := utf8.RuneCountInString(strings.TrimSpace(in.Text))
	var v errs.Validator
	_, ok := kindScenes[in.Kind]
	v.Check(ok, "kind", "must be comment, review, nickname or post")
	v.Check(utf8.RuneCountInString(in.Target) <= 64 && clean(in.Target), "target", "at most 64 characters")
	v.Check(n >= 1 && utf8.RuneCountInString(in.Text) <= MaxTextRunes && clean(in.Text), "text", "must be 1 to 2,000 characters")
	return v.Err()
}

// clean reports whether s is UTF-8 without NUL (which PostgreSQL refuses).
func clean(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// StaffActor names a staff account in the decision log.
func StaffActor(accountID int64) string { return fmt.Sprintf("staff:%d", accountID) }

// Submit checks a buyer's text and publishes it, holds it for review, or
// refuses it (422 content_blocked). Banned buyers cannot submit.
func (s *Service) Submit(ctx context.Context, shopID, memberID int64, in NewItem) (Item, error) {
	if err := in.validate(); err != nil {
		return Item{}, err
	}
	if until, banned, err := s.bannedUntil(ctx, shopID, memberID); err != nil {
		return Item{}, errs.Wrap("submit", err)
	} else if banned {
		return Item{}, errs.E(errs.Forbidden, "member_banned", "you cannot post until "+until.Format(time.RFC3339))
	}
	if in.Kind == "review" {
		if err := s.checkReviewer(ctx, shopID, memberID, in.Target); err != nil {
			return Item{}, err
		}
	}
	verdict, ms := s.Check(shopID, in.Text)
	if verdict == engine.VerdictBlock {
		return Item{}, blocked(ms)
	}
	wx, err := s.wechatVerdict(ctx, shopID, memberID, in)
	if err != nil {
		return Item{}, err
	}
	status := Published
	if verdict != engine.VerdictPass || wx.review {
		status = Pending
	}
	it, err := s.insertItem(ctx, shopID, memberID, in, status, verdict, ms, wx.note)
	return s.published(ctx, shopID, it, err)
}

// blocked is the error for text a block rule matched.
func blocked(ms []engine.Match) error {
	cats := map[string]bool{}
	var names []string
	for _, m := range ms {
		if m.Rule.Level == engine.LevelBlock && !cats[m.Rule.Category] {
			cats[m.Rule.Category] = true
			names = append(names, m.Rule.Category)
		}
	}
	e := errs.E(errs.Unprocessable, "content_blocked", "the text contains prohibited content ("+strings.Join(names, ", ")+")")
	e.Fields = map[string]string{"text": "contains prohibited content"}
	return e
}

type wechatResult struct {
	review bool
	note   string
}

// wechatVerdict asks msg_sec_check when the shop turned it on: risky is
// refused, review is held; when WeChat cannot answer the item is held.
func (s *Service) wechatVerdict(ctx context.Context, shopID, memberID int64, in NewItem) (wechatResult, error) {
	on, err := s.wechatOn(ctx, shopID)
	if err != nil || !on || s.wechat == nil {
		return wechatResult{}, errs.Wrap("settings", err)
	}
	suggest, label, err := s.wechat.SecCheck(ctx, shopID, memberID, kindScenes[in.Kind], in.Text)
	if err != nil {
		s.log.Warn("msg_sec_check failed; holding for review", "shop", shopID, "err", err)
		return wechatResult{review: true, note: "error"}, nil
	}
	note := fmt.Sprintf("%s:%d", suggest, label)
	switch suggest {
	case "pass":
		return wechatResult{note: note}, nil
	case "risky":
		e := errs.E(errs.Unprocessable, "content_blocked", "the text was refused by WeChat's content check")
		e.Fields = map[string]string{"text": "refused by WeChat's content check"}
		return wechatResult{}, e
	}
	return wechatResult{review: true, note: note}, nil
}

func (s *Service) insertItem(ctx context.Context, shopID, memberID int64, in NewItem, status, verdict string, ms []engine.Match, wx string) (Item, error) {
	matches, _ := json.Marshal(matchViews(ms))
	now := db.Now()
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO moderation_items (shop_id, member_id, kind, target, body, status, verdict, matches, wechat, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, nullMember(memberID), in.Kind, in.Target, in.Text, status, verdict, string(matches), wx, now, now).Scan(&id)
	if err != nil {
		return Item{}, errs.Wrap("submit", err)
	}
	return s.GetItem(ctx, shopID, id)
}

func matchViews(ms []engine.Match) []MatchView {
	out := make([]MatchView, len(ms))
	for i, m := range ms {
		out[i] = MatchView{Word: m.Rule.Word, Category: m.Rule.Category, Level: string(m.Rule.Level), Start: m.Start, End: m.End}
	}
	return out
}

// nullMember stores a staff item (product text) without an author.
func nullMember(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const itemColumns = `id, COALESCE(member_id, 0), kind, target, body, status, verdict, matches, wechat, reject_reason, created_at`

func scanItem(sc scanner) (Item, error) {
	var it Item
	var matches string
	var created int64
	err := sc.Scan(&it.ID, &it.MemberID, &it.Kind, &it.Target, &it.Text, &it.Status, &it.Verdict, &matches, &it.WeChat, &it.RejectReason, &created)
	if err == nil {
		err = json.Unmarshal([]byte(matches), &it.Matches)
	}
	it.CreatedAt = time.UnixMilli(created).UTC()
	return it, err
}

var errItemNotFound = errs.E(errs.NotFound, "content_not_found", "no such content")

// GetItem returns one of the shop's items.
func (s *Service) GetItem(ctx context.Context, shopID, id int64) (Item, error) {
	it, err := scanItem(s.db.QueryRow(ctx, `SELECT `+itemColumns+` FROM moderation_items WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Item{}, errItemNotFound
	}
	return it, errs.Wrap("get content", err)
}

// ItemQuery selects items, newest first.
type ItemQuery struct {
	Status string // "" = any
	Target string // "" = any
	After  int64  // cursor: items with a smaller id
	Limit  int
}

// ListItems returns the shop's items (the review queue with status pending).
func (s *Service) ListItems(ctx context.Context, shopID int64, q ItemQuery) ([]Item, error) {
	switch q.Status {
	case "", Published, Pending, Rejected, Removed:
	default:
		return nil, errs.Field("status", "invalid_query", "must be published, pending, rejected or removed")
	}
	if !clean(q.Target) || len(q.Target) > 256 {
		return nil, errs.Field("target", "invalid_query", "not a valid target")
	}
	if q.Limit <= 0 || q.Limit > 101 { // a page of 100 asks for one more
		q.Limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT `+itemColumns+` FROM moderation_items WHERE shop_id = ?
		AND (? = '' OR status = ?) AND (? = '' OR target = ?) AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`,
		shopID, q.Status, q.Status, q.Target, q.Target, q.After, q.After, q.Limit)
	if err != nil {
		return nil, errs.Wrap("list content", err)
	}
	defer rows.Close()
	out := []Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, errs.Wrap("list content", err)
		}
		out = append(out, it)
	}
	return out, errs.Wrap("list content", rows.Err())
}
