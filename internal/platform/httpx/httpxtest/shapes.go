// Package httpxtest holds test helpers over the route registry.
package httpxtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// CheckBuyerDocs reads the OpenAPI document api produces and fails t when
// a Member or Shop route documents one of forbidden in its 2xx answer (its
// schemas walked through their references), or documents no answer at
// all (file answers excepted). It returns how many buyer routes it read.
func CheckBuyerDocs(t *testing.T, api *httpx.API, forbidden map[string]bool) int {
	t.Helper()
	raw, _ := json.Marshal(api.OpenAPI("t", "0"))
	var doc struct {
		Paths      map[string]map[string]map[string]any
		Components struct{ Schemas map[string]any }
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
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
				walk(doc.Components.Schemas, r, map[string]bool{}, keys)
			}
		}
		if rt.Produces == "" && len(keys) == 0 {
			t.Errorf("%s %s: no documented answer read", rt.Method, rt.Path)
		}
		for k := range keys {
			if forbidden[k] {
				t.Errorf("%s %s documents %s", rt.Method, rt.Path, k)
			}
		}
	}
	return buyer
}

// walk gathers the property names of schema s into keys.
func walk(schemas map[string]any, s any, seen, keys map[string]bool) {
	switch x := s.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			if !seen[name] {
				seen[name] = true
				walk(schemas, schemas[name], seen, keys)
			}
			return
		}
		for k, c := range x {
			if props, ok := c.(map[string]any); ok && k == "properties" {
				for name, p := range props {
					keys[name] = true
					walk(schemas, p, seen, keys)
				}
				continue
			}
			walk(schemas, c, seen, keys)
		}
	case []any:
		for _, c := range x {
			walk(schemas, c, seen, keys)
		}
	}
}
