package member

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/mask"
)

// StaffMember is a member as staff see it: the profile (phone masked),
// the channel that brought them and their last login.
type StaffMember struct {
	Member
	SourceKind  string    `json:"source_kind" doc:"share, promoter, poster, campaign, search, other; empty for members from before attribution"`
	SourceRef   string    `json:"source_ref" doc:"the promoter id, scene, campaign name … of that channel"`
	LastLoginAt time.Time `json:"last_login_at"`
}

// StaffColumns are the columns ScanStaff reads, of members aliased m.
const StaffColumns = `m.id, m.shop_id, m.unionid <> '', m.phone, m.nickname, m.birthday, m.created_at, m.source_kind, m.source_ref, m.last_login_at`

// ScanStaff reads a row of StaffColumns, the phone masked.
func ScanStaff(row interface{ Scan(...any) error }) (StaffMember, error) {
	var m StaffMember
	var created, login int64
	err := row.Scan(&m.ID, &m.ShopID, &m.HasUnionID, &m.Phone, &m.Nickname, &m.Birthday, &created,
		&m.SourceKind, &m.SourceRef, &login)
	m.CreatedAt, m.LastLoginAt = time.UnixMilli(created).UTC(), time.UnixMilli(login).UTC()
	m.Phone = mask.Phone(m.Phone)
	return m, err
}

// GetStaff returns member id of shopID as staff see it.
func (s *Service) GetStaff(ctx context.Context, shopID, id int64) (StaffMember, error) {
	m, err := ScanStaff(s.db.QueryRow(ctx, `SELECT `+StaffColumns+` FROM members m WHERE m.id = ? AND m.shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return StaffMember{}, errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	return m, errs.Wrap("get member", err)
}

// Note is a staff note on a member: never shown to the buyer.
type Note struct {
	ID        int64     `json:"id"`
	MemberID  int64     `json:"member_id"`
	AuthorID  int64     `json:"author_id"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// MaxNoteLength is the longest note, in characters; MaxNotes the most a
// member keeps.
const (
	MaxNoteLength = 500
	MaxNotes      = 200
)

// AddNote writes a staff note on member id of shopID.
func (s *Service) AddNote(ctx context.Context, shopID, id, authorID int64, author, body string) (Note, error) {
	body = strings.TrimSpace(body)
	if body == "" || utf8.RuneCountInString(body) > MaxNoteLength {
		return Note{}, errs.Field("body", "invalid_note", "a note is 1 to 500 characters")
	}
	if _, err := s.Get(ctx, shopID, id); err != nil {
		return Note{}, err
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM member_notes WHERE shop_id = ? AND member_id = ?`, shopID, id).Scan(&n); err != nil {
		return Note{}, errs.Wrap("add note", err)
	}
	if n >= MaxNotes {
		return Note{}, errs.E(errs.Conflict, "too_many_notes", "a member keeps at most 200 notes; delete old ones first")
	}
	now := db.Now()
	note := Note{MemberID: id, AuthorID: authorID, Author: author, Body: body, CreatedAt: time.UnixMilli(now).UTC()}
	err := s.db.QueryRow(ctx, `INSERT INTO member_notes (shop_id, member_id, author_id, author, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, shopID, id, authorID, author, body, now).Scan(&note.ID)
	return note, errs.Wrap("add note", err)
}

// Notes lists the notes on member id of shopID, newest first.
func (s *Service) Notes(ctx context.Context, shopID, id int64) ([]Note, error) {
	if _, err := s.Get(ctx, shopID, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, member_id, author_id, author, body, created_at FROM member_notes
		WHERE shop_id = ? AND member_id = ? ORDER BY id DESC LIMIT ?`, shopID, id, MaxNotes)
	if err != nil {
		return nil, errs.Wrap("notes", err)
	}
	defer rows.Close()
	notes := []Note{}
	for rows.Next() {
		var n Note
		var at int64
		if err := rows.Scan(&n.ID, &n.MemberID, &n.AuthorID, &n.Author, &n.Body, &at); err != nil {
			return nil, errs.Wrap("notes", err)
		}
		n.CreatedAt = time.UnixMilli(at).UTC()
		notes = append(notes, n)
	}
	return notes, errs.Wrap("notes", rows.Err())
}

// DeleteNote removes note id of shopID.
func (s *Service) DeleteNote(ctx context.Context, shopID, id int64) error {
	err := db.ExpectOne(s.db.Exec(ctx, `DELETE FROM member_notes WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return errs.E(errs.NotFound, "note_not_found", "no such note")
	}
	return errs.Wrap("delete note", err)
}

// RevealPhone is member id's phone in full, for staff who gave a reason
// (the audit log keeps who asked, when and why).
func (s *Service) RevealPhone(ctx context.Context, shopID, id int64) (Revealed, error) {
	var out Revealed
	err := s.db.QueryRow(ctx, `SELECT phone FROM members WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&out.Phone)
	if db.IsNoRows(err) {
		return out, errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	return out, errs.Wrap("reveal phone", err)
}

// Revealed is a member's personal data shown on request.
type Revealed struct {
	Phone string `json:"phone" doc:"in full; empty when none is bound"`
}
