package qa

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// staffKeys may appear in no buyer answer: another buyer's or a staff
// account's id, a moderation item or a post's status.
var staffKeys = map[string]bool{"member_id": true, "staff_id": true, "moderation_item_id": true, "status": true, "verdict": true}

// TestBuyerAnswersDocumentNoStaffFields reads the document the routes
// produce: every Member and Shop route's answer is walked through its
// schemas.
func TestBuyerAnswersDocumentNoStaffFields(t *testing.T) {
	api := httpx.NewAPI(http.NewServeMux(), testGuards())
	(&Handlers{}).Routes(api)
	raw, _ := json.Marshal(api.OpenAPI("t", "0"))
	var doc struct {
		Paths      map[string]map[string]map[string]any
		Components struct{ Schemas map[string]any }
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(s any, seen map[string]bool, keys map[string]bool)
	walk = func(s any, seen, keys map[string]bool) {
		switch x := s.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/components/schemas/")
				if !seen[name] {
					seen[name] = true
					walk(doc.Components.Schemas[name], seen, keys)
				}
				return
			}
			for k, c := range x {
				if props, ok := c.(map[string]any); ok && k == "properties" {
					for name, p := range props {
						keys[name] = true
						walk(p, seen, keys)
					}
					continue
				}
				walk(c, seen, keys)
			}
		case []any:
			for _, c := range x {
				walk(c, seen, keys)
			}
		}
	}
	buyer := 0
	for _, rt := range api.Routes() {
		if rt.Access != httpx.Member && rt.Access != httpx.Shop {
			continue
		}
		buyer++
		keys := map[string]bool{}
		for status, r := range doc.Paths[rt.Path][strings.ToLower(rt.Method)]["responses"].(map[string]any) {
			if strings.HasPrefix(status, "2") {
				walk(r, map[string]bool{}, keys)
			}
		}
		if rt.Produces == "" && len(keys) == 0 {
			t.Errorf("%s %s: no documented answer read", rt.Method, rt.Path)
		}
		for k := range keys {
			if staffKeys[k] {
				t.Errorf("%s %s documents %s", rt.Method, rt.Path, k)
			}
		}
	}
	if buyer < 4 {
		t.Fatalf("only %d buyer routes", buyer)
	}
}
