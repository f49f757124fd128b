package qa

import (
	"context"
	"database/sql"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Post is a post as staff see it.
type Post struct {
	ID               int64      `json:"id"`
	LessonID         int64      `json:"lesson_id"`
	CourseID         int64      `json:"course_id"`
	ParentID         int64      `json:"parent_id,omitempty" doc:"replies: the post replied to"`
	Kind             string     `json:"kind" enum:"comment,question,reply"`
	MemberID         int64      `json:"member_id,omitempty" doc:"the learner who wrote it (0: the teacher)"`
	Nickname         string     `json:"nickname,omitempty"`
	StaffID          int64      `json:"staff_id,omitempty" doc:"the staff account of a teacher's reply"`
	Teacher          bool       `json:"teacher" doc:"a teacher's reply"`
	Text             string     `json:"text"`
	Status           string     `json:"status" enum:"published,pending,hidden" doc:"pending: held by moderation until approved"`
	ModerationItemID int64      `json:"moderation_item_id,omitempty"`
	PinnedAt         *time.Time `json:"pinned_at"`
	Likes            int64      `json:"likes"`
	AnsweredAt       *time.Time `json:"answered_at" doc:"questions: the teacher's first reply"`
	CreatedAt        time.Time  `json:"created_at"`
}

const postColumns = `q.id, q.lesson_id, q.course_id, COALESCE(q.parent_id, 0), q.kind, COALESCE(q.member_id, 0), COALESCE(m.nickname, ''),
	COALESCE(q.staff_id, 0), q.teacher, q.body, q.status, COALESCE(q.moderation_item_id, 0), q.pinned_at, q.likes, q.answered_at, q.created_at`

const postFrom = ` FROM qa_posts q LEFT JOIN members m ON m.id = q.member_id AND m.shop_id = q.shop_id`

func scanPost(sc db.Scanner, extra ...any) (Post, error) {
	var p Post
	var pinned, answered sql.NullInt64
	var created int64
	err := sc.Scan(append([]any{&p.ID, &p.LessonID, &p.CourseID, &p.ParentID, &p.Kind, &p.MemberID, &p.Nickname,
		&p.StaffID, &p.Teacher, &p.Text, &p.Status, &p.ModerationItemID, &pinned, &p.Likes, &answered, &created}, extra...)...)
	p.PinnedAt, p.AnsweredAt, p.CreatedAt = msPtr(pinned), msPtr(answered), time.UnixMilli(created).UTC()
	return p, err
}

func msPtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.UnixMilli(n.Int64).UTC()
	return &t
}

// get loads one of the shop's posts.
func (s *Service) get(ctx context.Context, q db.Querier, shopID, id int64) (Post, error) {
	p, err := scanPost(q.QueryRow(ctx, `SELECT `+postColumns+postFrom+` WHERE q.shop_id = ? AND q.id = ?`, shopID, id))
	if db.IsNoRows(err) {
		return Post{}, errPostNotFound
	}
	return p, errs.Wrap("post", err)
}

// root is the top-level post a reply goes under: the post itself, or the
// post a reply replied to (threads are one level deep).
func (s *Service) root(ctx context.Context, shopID, id int64) (Post, error) {
	p, err := s.get(ctx, s.db, shopID, id)
	if err == nil && p.ParentID != 0 {
		p, err = s.get(ctx, s.db, shopID, p.ParentID)
	}
	return p, err
}

type newRow struct {
	lesson                      Lesson
	parentID, memberID, staffID int64
	kind, text, status          string
	teacher                     bool
	itemID                      int64
}

func (s *Service) insert(ctx context.Context, q db.Querier, shopID int64, r newRow) (int64, error) {
	now := s.now().UnixMilli()
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO qa_posts (shop_id, lesson_id, course_id, parent_id, kind, member_id, staff_id, teacher, body, status,
			moderation_item_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		shopID, r.lesson.ID, r.lesson.CourseID, nullID(r.parentID), r.kind, nullID(r.memberID), nullID(r.staffID), r.teacher, r.text, r.status,
		nullID(r.itemID), now, now).Scan(&id)
	return id, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Post adds a learner's comment or question on a lesson they may open,
// after moderation: published, or pending until approved.
func (s *Service) Post(ctx context.Context, shopID, memberID, lessonID int64, in NewPost) (BuyerPost, error) {
	if in.Kind != Comment && in.Kind != Question {
		return BuyerPost{}, errs.Field("kind", "invalid_kind", "kind must be comment or question")
	}
	text, err := checkText(in.Text)
	if err != nil {
		return BuyerPost{}, err
	}
	l, err := s.lessonFor(ctx, shopID, memberID, lessonID)
	if err != nil {
		return BuyerPost{}, err
	}
	status, item, err := s.moderate(ctx, shopID, memberID, lessonID, text)
	if err != nil {
		return BuyerPost{}, err
	}
	id, err := s.insert(ctx, s.db, shopID, newRow{lesson: l, memberID: memberID, kind: in.Kind, text: text, status: status, itemID: item})
	if err != nil {
		return BuyerPost{}, errs.Wrap("post", err)
	}
	p, err := s.get(ctx, s.db, shopID, id)
	return p.buyer(memberID, false, nil), err
}

// Reply adds a learner's reply under a visible post of a lesson they may
// open, after moderation.
func (s *Service) Reply(ctx context.Context, shopID, memberID, postID int64, in NewReply) (BuyerReply, error) {
	text, err := checkText(in.Text)
	if err != nil {
		return BuyerReply{}, err
	}
	root, err := s.root(ctx, shopID, postID)
	if err != nil {
		return BuyerReply{}, err
	}
	if root.Status != Published {
		return BuyerReply{}, errPostNotFound // a hidden or pending post is not there for others
	}
	l, err := s.lessonFor(ctx, shopID, memberID, root.LessonID)
	if err != nil {
		return BuyerReply{}, err
	}
	status, item, err := s.moderate(ctx, shopID, memberID, l.ID, text)
	if err != nil {
		return BuyerReply{}, err
	}
	id, err := s.insert(ctx, s.db, shopID, newRow{lesson: l, parentID: root.ID, memberID: memberID, kind: Reply, text: text, status: status, itemID: item})
	if err != nil {
		return BuyerReply{}, errs.Wrap("reply", err)
	}
	p, err := s.get(ctx, s.db, shopID, id)
	return p.reply(memberID, false), err
}

// TeacherReply adds staff's reply, marked as the teacher's, under a
// published post; the first one under a question answers it (and takes it
// off the queue).
func (s *Service) TeacherReply(ctx context.Context, shopID, staffID, postID int64, in NewReply) (Post, error) {
	text, err := checkText(in.Text)
	if err != nil {
		return Post{}, err
	}
	root, err := s.root(ctx, shopID, postID)
	if err != nil {
		return Post{}, err
	}
	if root.Status != Published {
		return Post{}, errs.E(errs.Conflict, "post_not_published", "this post is "+root.Status+": only published posts take replies")
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		l := Lesson{ID: root.LessonID, CourseID: root.CourseID}
		if id, err = s.insert(ctx, tx, shopID, newRow{lesson: l, parentID: root.ID, staffID: staffID, kind: Reply, text: text, status: Published, teacher: true}); err != nil {
			return err
		}
		// Compare-and-set: the first teacher's reply answers the question.
		_, err := tx.Exec(ctx, `UPDATE qa_posts SET answered_at = ?, updated_at = ? WHERE shop_id = ? AND id = ? AND kind = 'question' AND answered_at IS NULL`,
			s.now().UnixMilli(), s.now().UnixMilli(), shopID, root.ID)
		return err
	})
	if err != nil {
		return Post{}, errs.Wrap("teacher reply", err)
	}
	return s.get(ctx, s.db, shopID, id)
}

// Pin pins (or unpins) a published post or reply: a pinned post leads its
// lesson's thread, a pinned reply its post's replies. Pinning a pinned
// post changes nothing.
func (s *Service) Pin(ctx context.Context, shopID, postID int64, pin bool) (Post, error) {
	now := s.now().UnixMilli()
	var err error
	if pin {
		_, err = s.db.Exec(ctx, `UPDATE qa_posts SET pinned_at = ?, updated_at = ? WHERE shop_id = ? AND id = ? AND status = 'published' AND pinned_at IS NULL`,
			now, now, shopID, postID)
	} else {
		_, err = s.db.Exec(ctx, `UPDATE qa_posts SET pinned_at = NULL, updated_at = ? WHERE shop_id = ? AND id = ? AND pinned_at IS NOT NULL`,
			now, shopID, postID)
	}
	if err != nil {
		return Post{}, errs.Wrap("pin", err)
	}
	p, err := s.get(ctx, s.db, shopID, postID)
	if err == nil && pin && p.Status != Published {
		return Post{}, errs.E(errs.Conflict, "post_not_published", "only a published post can be pinned")
	}
	return p, err
}

// Hide takes a post (or reply) out of its thread; hiding a hidden post
// changes nothing.
func (s *Service) Hide(ctx context.Context, shopID, postID int64) (Post, error) {
	now := s.now().UnixMilli()
	if _, err := s.db.Exec(ctx, `UPDATE qa_posts SET status = 'hidden', pinned_at = NULL, updated_at = ? WHERE shop_id = ? AND id = ? AND status <> 'hidden'`,
		now, shopID, postID); err != nil {
		return Post{}, errs.Wrap("hide", err)
	}
	return s.get(ctx, s.db, shopID, postID)
}

// Like records the member's like of a published post once: the like row
// is the guard, and the count moves only when it was inserted (or, on
// unlike, deleted).
func (s *Service) Like(ctx context.Context, shopID, memberID, postID int64, like bool) (LikeResult, error) {
	p, err := s.get(ctx, s.db, shopID, postID)
	if err != nil {
		return LikeResult{}, err
	}
	if p.Status != Published {
		return LikeResult{}, errPostNotFound
	}
	res := LikeResult{PostID: postID, LikedByMe: like}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var r sql.Result
		var err error
		delta := 1
		if like {
			r, err = tx.Exec(ctx, `INSERT INTO qa_likes (shop_id, post_id, member_id, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (shop_id, post_id, member_id) DO NOTHING`, shopID, postID, memberID, s.now().UnixMilli())
		} else {
			delta = -1
			r, err = tx.Exec(ctx, `DELETE FROM qa_likes WHERE shop_id = ? AND post_id = ? AND member_id = ?`, shopID, postID, memberID)
		}
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n == 0 {
			return err // liked (or not) already: the count stays
		}
		return db.ExpectOne(tx.Exec(ctx, `UPDATE qa_posts SET likes = likes + ? WHERE shop_id = ? AND id = ? AND likes + ? >= 0`,
			delta, shopID, postID, delta))
	})
	if err != nil {
		return LikeResult{}, errs.Wrap("like", err)
	}
	err = s.db.QueryRow(ctx, `SELECT likes FROM qa_posts WHERE shop_id = ? AND id = ?`, shopID, postID).Scan(&res.Likes)
	return res, errs.Wrap("like", err)
}

func (p Post) buyer(memberID int64, liked bool, replies []BuyerReply) BuyerPost {
	if replies == nil {
		replies = []BuyerReply{}
	}
	return BuyerPost{ID: p.ID, Kind: p.Kind, Text: p.Text, Author: p.Nickname, Mine: p.MemberID == memberID,
		Pending: p.Status == Pending, Pinned: p.PinnedAt != nil, Answered: p.AnsweredAt != nil,
		Likes: p.Likes, LikedByMe: liked, CreatedAt: p.CreatedAt, Replies: replies}
}

func (p Post) reply(memberID int64, liked bool) BuyerReply {
	r := BuyerReply{ID: p.ID, Text: p.Text, Author: p.Nickname, Teacher: p.Teacher, Mine: !p.Teacher && p.MemberID == memberID,
		Pending: p.Status == Pending, Pinned: p.PinnedAt != nil, Likes: p.Likes, LikedByMe: liked, CreatedAt: p.CreatedAt}
	if p.Teacher {
		r.Author = TeacherLabel
	}
	return r
}
