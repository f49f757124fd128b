package segment

import (
	"context"
	"github.com/kaidian/kaidian/internal/member"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Tag is a label staff put on members by hand.
type Tag struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Color       string    `json:"color" doc:"#rrggbb, or empty"`
	MemberCount int64     `json:"member_count"`
	CreatedAt   time.Time `json:"created_at"`
}

// TagInput is a tag as staff write it.
type TagInput struct {
	Name  string `json:"name" doc:"1 to 20 characters, unique in the shop"`
	Color string `json:"color" doc:"#rrggbb, or empty"`
}

// Limits of tags.
const (
	MaxTags       = 200  // per shop
	MaxBulk       = 1000 // member ids in one tagging call
	MaxMemberTags = 50   // tags set on one member at once
)

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

var (
	errTagNotFound  = errs.E(errs.NotFound, "tag_not_found", "no such tag")
	errTagDuplicate = errs.Field("name", "tag_exists", "the shop already has a tag of that name")
)

func (in *TagInput) validate() error {
	in.Name, in.Color = strings.TrimSpace(in.Name), strings.TrimSpace(in.Color)
	var v errs.Validator
	n := utf8.RuneCountInString(in.Name)
	v.Check(n >= 1 && n <= 20, "name", "1 to 20 characters")
	v.Check(in.Color == "" || colorRE.MatchString(in.Color), "color", "must be #rrggbb")
	return v.Err()
}

const tagColumns = `t.id, t.name, t.color, t.created_at,
	(SELECT COUNT(*) FROM member_tag_links l WHERE l.tag_id = t.id)`

func scanTag(row db.Scanner) (Tag, error) {
	var t Tag
	var at int64
	err := row.Scan(&t.ID, &t.Name, &t.Color, &at, &t.MemberCount)
	t.CreatedAt = time.UnixMilli(at).UTC()
	return t, err
}

// CreateTag adds a tag to shopID.
func (s *Service) CreateTag(ctx context.Context, shopID int64, in TagInput) (Tag, error) {
	if err := in.validate(); err != nil {
		return Tag{}, err
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM member_tags WHERE shop_id = ?`, shopID).Scan(&n); err != nil {
		return Tag{}, errs.Wrap("create tag", err)
	}
	if n >= MaxTags {
		return Tag{}, errs.E(errs.Conflict, "too_many_tags", "a shop has at most 200 tags")
	}
	now := db.Now()
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO member_tags (shop_id, name, color, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		shopID, in.Name, in.Color, now, now).Scan(&id)
	if db.IsUniqueViolation(err) {
		return Tag{}, errTagDuplicate
	}
	if err != nil {
		return Tag{}, errs.Wrap("create tag", err)
	}
	return s.Tag(ctx, shopID, id)
}

// UpdateTag renames or recolors tag id.
func (s *Service) UpdateTag(ctx context.Context, shopID, id int64, in TagInput) (Tag, error) {
	if err := in.validate(); err != nil {
		return Tag{}, err
	}
	err := db.ExpectOne(s.db.Exec(ctx, `UPDATE member_tags SET name = ?, color = ?, updated_at = ? WHERE id = ? AND shop_id = ?`,
		in.Name, in.Color, db.Now(), id, shopID))
	switch {
	case db.IsUniqueViolation(err):
		return Tag{}, errTagDuplicate
	case db.IsNoRows(err):
		return Tag{}, errTagNotFound
	case err != nil:
		return Tag{}, errs.Wrap("update tag", err)
	}
	return s.Tag(ctx, shopID, id)
}

// DeleteTag removes tag id from the shop and from its members.
func (s *Service) DeleteTag(ctx context.Context, shopID, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockTag(ctx, tx, shopID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM member_tag_links WHERE tag_id = ? AND shop_id = ?`, id, shopID); err != nil {
			return errs.Wrap("delete tag", err)
		}
		err := db.ExpectOne(tx.Exec(ctx, `DELETE FROM member_tags WHERE id = ? AND shop_id = ?`, id, shopID))
		if db.IsNoRows(err) {
			return errTagNotFound
		}
		return errs.Wrap("delete tag", err)
	})
}

// Tag returns tag id of shopID with its member count.
func (s *Service) Tag(ctx context.Context, shopID, id int64) (Tag, error) {
	t, err := scanTag(s.db.QueryRow(ctx, `SELECT `+tagColumns+` FROM member_tags t WHERE t.id = ? AND t.shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Tag{}, errTagNotFound
	}
	return t, errs.Wrap("tag", err)
}

// Tags lists shopID's tags by name, with their member counts.
func (s *Service) Tags(ctx context.Context, shopID int64) ([]Tag, error) {
	tags, err := db.All(ctx, s.db, scanTag, `SELECT `+tagColumns+` FROM member_tags t WHERE t.shop_id = ? ORDER BY t.name, t.id`, shopID)
	if tags == nil {
		tags = []Tag{}
	}
	return tags, errs.Wrap("tags", err)
}

// MemberIDsInput names members for bulk tagging.
type MemberIDsInput struct {
	MemberIDs []int64 `json:"member_ids" doc:"1 to 1000 member ids of the shop"`
}

// Changed says how many members a bulk call changed.
type Changed struct {
	Changed int64 `json:"changed"`
}

// checkMembers refuses ids that are not all members of shopID.
func checkMembers(ctx context.Context, q db.Querier, shopID int64, ids []int64) ([]int64, error) {
	if len(ids) == 0 || len(ids) > MaxBulk {
		return nil, errs.Field("member_ids", "invalid_member_ids", "1 to 1000 member ids")
	}
	uniq := dedupe(ids)
	for _, id := range uniq {
		if id <= 0 {
			return nil, errs.Field("member_ids", "invalid_member_ids", "ids are positive")
		}
	}
	for _, id := range uniq { // one fixed statement per id: no IN list of every length in the statement cache
		if err := member.InShop(ctx, q, shopID, id); err != nil {
			if errs.Is(err, "member_not_found") {
				return nil, errs.Field("member_ids", "unknown_member", "some member ids are not members of this shop")
			}
			return nil, err
		}
	}
	return uniq, nil
}

// TagMembers tags members with tag id (already tagged ones stay).
func (s *Service) TagMembers(ctx context.Context, shopID, id int64, memberIDs []int64) (Changed, error) {
	var out Changed
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockTag(ctx, tx, shopID, id); err != nil {
			return err
		}
		ids, err := checkMembers(ctx, tx, shopID, memberIDs)
		if err != nil {
			return err
		}
		now := db.Now()
		for _, m := range ids {
			res, err := tx.Exec(ctx, `INSERT INTO member_tag_links (shop_id, tag_id, member_id, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (tag_id, member_id) DO NOTHING`, shopID, id, m, now)
			if err != nil {
				return errs.Wrap("tag members", err)
			}
			n, _ := res.RowsAffected()
			out.Changed += n
		}
		return nil
	})
	return out, err
}

// UntagMembers takes tag id off members.
func (s *Service) UntagMembers(ctx context.Context, shopID, id int64, memberIDs []int64) (Changed, error) {
	var out Changed
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockTag(ctx, tx, shopID, id); err != nil {
			return err
		}
		ids, err := checkMembers(ctx, tx, shopID, memberIDs)
		if err != nil {
			return err
		}
		for _, m := range ids {
			res, err := tx.Exec(ctx, `DELETE FROM member_tag_links WHERE tag_id = ? AND member_id = ? AND shop_id = ?`, id, m, shopID)
			if err != nil {
				return errs.Wrap("untag members", err)
			}
			n, _ := res.RowsAffected()
			out.Changed += n
		}
		return nil
	})
	return out, err
}

// lockTag takes tag id's row for the transaction (an update: both engines
// lock it), so tagging and deleting the tag happen one after the other and
// a link never points at a tag deleted meanwhile.
func lockTag(ctx context.Context, tx *db.Tx, shopID, id int64) error {
	err := db.ExpectOne(tx.Exec(ctx, `UPDATE member_tags SET updated_at = ? WHERE id = ? AND shop_id = ?`, db.Now(), id, shopID))
	if db.IsNoRows(err) {
		return errTagNotFound
	}
	return errs.Wrap("lock tag", err)
}

func tagInShop(ctx context.Context, q db.Querier, shopID, id int64) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM member_tags WHERE id = ? AND shop_id = ?`, id, shopID).Scan(&one)
	if db.IsNoRows(err) {
		return errTagNotFound
	}
	return errs.Wrap("tag", err)
}

// MemberTags lists the tags of member id.
func (s *Service) MemberTags(ctx context.Context, shopID, memberID int64) ([]Tag, error) {
	if err := member.InShop(ctx, s.db, shopID, memberID); err != nil {
		return nil, err
	}
	tags, err := db.All(ctx, s.db, scanTag, `SELECT `+tagColumns+` FROM member_tags t
		JOIN member_tag_links ml ON ml.tag_id = t.id AND ml.member_id = ?
		WHERE t.shop_id = ? ORDER BY t.name, t.id`, memberID, shopID)
	if tags == nil {
		tags = []Tag{}
	}
	return tags, errs.Wrap("member tags", err)
}

// TagIDsInput is the whole set of a member's tags.
type TagIDsInput struct {
	TagIDs []int64 `json:"tag_ids" doc:"every tag the member keeps (0 to 50 tag ids of the shop)"`
}

// SetMemberTags makes tagIDs the member's whole set of tags.
func (s *Service) SetMemberTags(ctx context.Context, shopID, memberID int64, tagIDs []int64) ([]Tag, error) {
	if len(tagIDs) > MaxMemberTags {
		return nil, errs.Field("tag_ids", "invalid_tag_ids", "at most 50 tags")
	}
	ids := dedupe(tagIDs)
	slices.Sort(ids) // tags are locked in one order: two sets cannot deadlock
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := member.InShop(ctx, tx, shopID, memberID); err != nil {
			return err
		}
		for _, t := range ids {
			if err := lockTag(ctx, tx, shopID, t); errs.Is(err, "tag_not_found") {
				return errs.Field("tag_ids", "tag_not_found", "no such tag")
			} else if err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM member_tag_links WHERE shop_id = ? AND member_id = ?`, shopID, memberID); err != nil {
			return errs.Wrap("set member tags", err)
		}
		now := db.Now()
		for _, t := range ids {
			// Another staff member's set may have written it since our delete.
			if _, err := tx.Exec(ctx, `INSERT INTO member_tag_links (shop_id, tag_id, member_id, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (tag_id, member_id) DO NOTHING`, shopID, t, memberID, now); err != nil {
				return errs.Wrap("set member tags", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.MemberTags(ctx, shopID, memberID)
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
