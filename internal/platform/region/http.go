package region

import (
	"net/http"
	"strings"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// List is the regions below a parent: the whole list (at most a few dozen),
// not a page.
type List struct {
	Parent  *Region  `json:"parent" doc:"the region asked for (null for the provinces)"`
	Regions []Region `json:"regions" doc:"its divisions in code order: every one of them, never cut"`
	Version string   `json:"version" doc:"the division data's version"`
}

// Handlers serves the region table to the mini program and the console.
type Handlers struct{}

// Routes registers the region routes.
func (Handlers) Routes(api *httpx.API) {
	q := []httpx.Param{{Name: "parent", Type: "string", Description: "a province or city code; absent for the provinces"}}
	api.Add(httpx.Route{Method: "GET", Path: "/api/v1/regions", Tag: "mini: addresses", Access: httpx.Shop, Query: q,
		Summary:  "China's divisions below a region (GB/T 2260: provinces, their cities, a city's counties); the whole list, not a page; cacheable for a day",
		Response: List{}, Handler: children})
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/regions", Tag: "admin: freight", Access: httpx.Staff, Perm: auth.PermCatalogRead, Query: q,
		Summary:  "China's divisions below a region (for freight templates); the whole list, not a page",
		Response: List{}, Handler: children})
}

func children(w http.ResponseWriter, r *http.Request) error {
	parent := strings.TrimSpace(r.URL.Query().Get("parent"))
	out := List{Regions: Children(parent), Version: DataVersion}
	if out.Regions == nil {
		out.Regions = []Region{} // a leaf (or an unknown code, refused below)
	}
	if parent != "" {
		p, ok := Lookup(parent)
		if !ok {
			return errs.Field("parent", "invalid_query", "unknown region code")
		}
		out.Parent = &p
	}
	// The table changes only with a new binary: the same for every shop and
	// buyer, so caches may keep it.
	etag := `"` + DataVersion + "/" + parent + `"`
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
