package member

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// SourceKind is the channel that brought a member (issue 14, point 8).
type SourceKind string

// The channels; "" is a member from before attribution existed.
const (
	SourceShare    SourceKind = "share"    // a shared card or link
	SourcePromoter SourceKind = "promoter" // a promoter's share or poster (ref: the promoter id)
	SourcePoster   SourceKind = "poster"   // a scanned mini-program code (ref: its scene)
	SourceCampaign SourceKind = "campaign" // an ad, an article, a campaign the shop names (ref: its name)
	SourceSearch   SourceKind = "search"   // WeChat search
	SourceOther    SourceKind = "other"
)

// EnumValues lists the channels for the API document.
func (SourceKind) EnumValues() []string {
	return []string{"share", "promoter", "poster", "campaign", "search", "other"}
}

// Valid reports whether k is one of the channels.
func (k SourceKind) Valid() bool {
	for _, v := range k.EnumValues() {
		if string(k) == v {
			return true
		}
	}
	return false
}

// Source is what the mini program knows about how the user arrived,
// sent with the first login: a channel it names itself, or the launch
// options it was opened with (the decoded scene of a code or link, and
// WeChat's launch scene number), from which the channel is worked out.
type Source struct {
	Kind        SourceKind `json:"kind,omitempty" doc:"the channel when the mini program knows it; otherwise worked out from scene and launch_scene"`
	Ref         string     `json:"ref,omitempty" doc:"what in that channel: a campaign name, a share id (at most 64 characters)"`
	Scene       string     `json:"scene,omitempty" doc:"the page's decoded scene or query, e.g. g=12&p=34 (p= names the promoter)"`
	LaunchScene int        `json:"launch_scene,omitempty" doc:"wx.getLaunchOptionsSync().scene, e.g. 1007 (a shared card), 1047 (a scanned code)"`
}

var errSource = func(field, msg string) error { return errs.Field("source."+field, "invalid_source", msg) }

// Validate checks the sizes and characters of what the client sent.
func (s Source) Validate() error {
	switch {
	case s.Kind != "" && !s.Kind.Valid():
		return errSource("kind", "must be share, promoter, poster, campaign, search or other")
	case len(s.Ref) > 64 || !printable(s.Ref):
		return errSource("ref", "at most 64 printable characters")
	case len(s.Scene) > 128 || !printable(s.Scene):
		return errSource("scene", "at most 128 printable characters")
	case s.LaunchScene < 0 || s.LaunchScene > 99999:
		return errSource("launch_scene", "must be WeChat's launch scene number")
	}
	return nil
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Resolved is the channel to store: a promoter named by the scene wins,
// then the kind the client names, then what the launch scene says.
func (s Source) Resolved() Source {
	if p := scenePromoter(s.Scene); p > 0 {
		return Source{Kind: SourcePromoter, Ref: strconv.FormatInt(p, 10)}
	}
	if s.Kind == SourcePromoter {
		if p, err := strconv.ParseInt(s.Ref, 10, 64); err == nil && p > 0 {
			return Source{Kind: SourcePromoter, Ref: s.Ref}
		}
		return Source{Kind: SourceOther}
	}
	if s.Kind != "" {
		return Source{Kind: s.Kind, Ref: s.Ref}
	}
	return Source{Kind: launchKind(s.LaunchScene), Ref: s.Scene}
}

// scenePromoter reads p=<id> from a scene ("g=12&p=34").
func scenePromoter(scene string) int64 {
	q, err := url.ParseQuery(strings.TrimPrefix(scene, "?"))
	if err != nil {
		return 0
	}
	p, err := strconv.ParseInt(q.Get("p"), 10, 64)
	if err != nil || p <= 0 {
		return 0
	}
	return p
}

// launchKind maps WeChat's launch scene numbers to a channel.
func launchKind(scene int) SourceKind {
	switch scene {
	case 1007, 1008, 1036, 1044, 1073, 1074, 1096:
		return SourceShare
	case 1011, 1012, 1013, 1047, 1048, 1049:
		return SourcePoster
	case 1005, 1006, 1027, 1042, 1053, 1106:
		return SourceSearch
	case 1035, 1043, 1045, 1046, 1058, 1067, 1068, 1084, 1095:
		return SourceCampaign
	}
	return SourceOther
}

// Promoters tells whether a promoter id belongs to a shop.
type Promoters interface {
	PromoterExists(ctx context.Context, shopID, promoterID int64) (bool, error)
}

// SetPromoters sets who checks the promoter a source names; without it a
// promoter source is recorded as "other".
func (s *Service) SetPromoters(p Promoters) { s.promoters = p }

// checkPromoter resolves src and keeps a promoter only when it is one of
// shopID's: an id from another shop or a made-up one becomes "other".
func (s *Service) checkPromoter(ctx context.Context, shopID int64, src Source) Source {
	r := src.Resolved()
	if r.Kind != SourcePromoter {
		return r
	}
	if s.promoters != nil {
		id, _ := strconv.ParseInt(r.Ref, 10, 64)
		ok, err := s.promoters.PromoterExists(ctx, shopID, id)
		if err != nil {
			slog.WarnContext(ctx, "member source: promoter check failed", "shop", shopID, "err", err)
		}
		if ok {
			return r
		}
	}
	return Source{Kind: SourceOther}
}
