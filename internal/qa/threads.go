package qa

import (
	"context"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Thread orders.
const (
	SortNewest = "newest"
	SortLikes  = "likes"
)

// visible is what a member sees: published posts, and their own pending.
const visible = `(q.status = 'published' OR (q.status = 'pending' AND q.member_id = ?))`

const pinnedFirst = `CASE WHEN q.pinned_at IS NULL THEN 0 ELSE 1 END`

// ThreadItem is a top-level post with its sort keys (pinned, the sort's key,
// id), for the next page's cursor.
type ThreadItem struct {
	Post BuyerPost
	Keys []int64
}

// Thread lists a lesson's comments and questions as the member sees them:
// pinned first, then newest (or most liked), each with its replies. after
// is the previous page's last keys.
func (s *Service) Thread(ctx context.Context, shopID, memberID, lessonID int64, sort string, after []int64, limit int) ([]ThreadItem, error) {
	if _, err := s.lesson(ctx, shopID, lessonID); err != nil {
		return nil, err
	}
	key := "q.id"
	if sort == SortLikes {
		key = "q.likes"
	}
	cond, args := "", []any{memberID, shopID, lessonID, memberID}
	if after != nil {
		cond = ` AND (` + pinnedFirst + `, ` + key + `, q.id) < (?, ?, ?)`
		args = append(args, after[0], after[1], after[2])
	}
	type row struct {
		p     Post
		liked bool
		keys  []int64
	}
	rows, err := db.All(ctx, s.db, func(sc db.Scanner) (row, error) {
		var r row
		var pin, k int64
		var err error
		r.p, err = scanPost(sc, &r.liked, &pin, &k)
		r.keys = []int64{pin, k, r.p.ID}
		return r, err
	}, `SELECT `+postColumns+`, EXISTS (SELECT 1 FROM qa_likes l WHERE l.shop_id = q.shop_id AND l.post_id = q.id AND l.member_id = ?),
			`+pinnedFirst+`, `+key+postFrom+`
		WHERE q.shop_id = ? AND q.lesson_id = ? AND q.parent_id IS NULL AND `+visible+cond+`
		ORDER BY `+pinnedFirst+` DESC, `+key+` DESC, q.id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, errs.Wrap("thread", err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.p.ID
	}
	replies, err := s.replies(ctx, shopID, memberID, ids)
	if err != nil {
		return nil, errs.Wrap("thread replies", err)
	}
	out := make([]ThreadItem, len(rows))
	for i, r := range rows {
		out[i] = ThreadItem{Post: r.p.buyer(memberID, r.liked, replies[r.p.ID]), Keys: r.keys}
	}
	return out, nil
}

// replies are the visible replies under posts, pinned first, then oldest.
func (s *Service) replies(ctx context.Context, shopID, memberID int64, parents []int64) (map[int64][]BuyerReply, error) {
	out := map[int64][]BuyerReply{}
	if len(parents) == 0 {
		return out, nil
	}
	args := []any{memberID, shopID, memberID}
	for _, id := range parents {
		args = append(args, id)
	}
	type row struct {
		p     Post
		liked bool
	}
	rows, err := db.All(ctx, s.db, func(sc db.Scanner) (row, error) {
		var r row
		var err error
		r.p, err = scanPost(sc, &r.liked)
		return r, err
	}, `SELECT `+postColumns+`, EXISTS (SELECT 1 FROM qa_likes l WHERE l.shop_id = q.shop_id AND l.post_id = q.id AND l.member_id = ?)`+postFrom+`
		WHERE q.shop_id = ? AND `+visible+` AND q.parent_id IN (?`+strings.Repeat(", ?", len(parents)-1)+`)
		ORDER BY `+pinnedFirst+` DESC, q.id`, args...)
	for _, r := range rows {
		out[r.p.ParentID] = append(out[r.p.ParentID], r.p.reply(memberID, r.liked))
	}
	return out, err
}

// Queue lists the shop's published questions the teacher has not answered,
// oldest first, of one course or (courseID 0) all.
func (s *Service) Queue(ctx context.Context, shopID, courseID, after int64, limit int) ([]Post, error) {
	cond, args := "", []any{shopID, after}
	if courseID != 0 {
		cond, args = ` AND q.course_id = ?`, append(args, courseID)
	}
	out, err := db.All(ctx, s.db, func(sc db.Scanner) (Post, error) { return scanPost(sc) },
		`SELECT `+postColumns+postFrom+`
		WHERE q.shop_id = ? AND q.kind = 'question' AND q.answered_at IS NULL AND q.status = 'published' AND q.id > ?`+cond+`
		ORDER BY q.id LIMIT ?`, append(args, limit+1)...)
	return out, errs.Wrap("queue", err)
}

// LessonPosts lists every post and reply on a lesson, whatever its status,
// newest first, for staff.
func (s *Service) LessonPosts(ctx context.Context, shopID, lessonID, after int64, limit int) ([]Post, error) {
	if _, err := s.lessons.Lesson(ctx, shopID, lessonID); err != nil {
		return nil, err // another shop's lesson is not found
	}
	cond, args := "", []any{shopID, lessonID}
	if after != 0 {
		cond, args = ` AND q.id < ?`, append(args, after)
	}
	out, err := db.All(ctx, s.db, func(sc db.Scanner) (Post, error) { return scanPost(sc) },
		`SELECT `+postColumns+postFrom+` WHERE q.shop_id = ? AND q.lesson_id = ?`+cond+` ORDER BY q.id DESC LIMIT ?`, append(args, limit+1)...)
	return out, errs.Wrap("lesson posts", err)
}
