package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// badTexts are the two inputs PostgreSQL refuses and SQLite stores: a NUL
// character and a byte that is not UTF-8.
var badTexts = []string{"a\x00b", "a\xffb"}

// badHeaders are the headers kaidian reads (and one it only logs). Go's
// HTTP client refuses to send a NUL in a header, so headers get only the
// invalid UTF-8.
var badHeaders = []string{"X-Appid", "Idempotency-Key", "X-Forwarded-For", "X-Shop-Id", "X-CSRF-Token", "Referer", "X-Request-Id"}

// badQueryParams are read by some route beyond those routes document.
var badQueryParams = []string{"q", "order_no", "phone", "status", "after", "limit", "target", "scope", "format"}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// TestNoRouteAnswers5xxToBadText is the fuzz of issue 11: for every
// registered route, as a shop's owner (and an operator acting on the shop,
// for the operator's routes), as a buyer and as a mini program (appid
// only), NUL and invalid UTF-8 go into each path parameter, each query
// parameter, each header kaidian reads and every string field of the JSON
// body. Nothing may answer 5xx, and whatever is outside the body is refused
// at the edge with 400 invalid_text, the same on both databases.
func TestNoRouteAnswers5xxToBadText(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		opShop := caller{token: op.token, shopID: a.id}
		v := newDocValidator(t, e) // every answer, refusals included, as /openapi.json says
		e.seen = v.check
		defer v.finish(nil)
		sent := 0
		check := func(rt httpx.Route, what string, res response, edge bool) {
			t.Helper()
			sent++
			if res.status >= 500 {
				t.Errorf("%s %s, bad %s: %d %s", rt.Method, rt.Path, what, res.status, res.body)
			}
			if edge && (res.status != 400 || res.code() != "invalid_text") {
				t.Errorf("%s %s, bad %s: %d %s, want 400 invalid_text", rt.Method, rt.Path, what, res.status, res.body)
			}
		}
		for _, rt := range selfRoutesLast(e.srv.API.Routes()) {
			callers := []caller{a.owner, a.member, {appid: a.appid}}
			if rt.Perm == auth.PermShops {
				callers = append(callers, opShop)
			}
			goodPath := pathParam.ReplaceAllString(rt.Path, "1")
			for _, who := range callers {
				for _, bad := range badTexts {
					for _, p := range pathParam.FindAllString(rt.Path, -1) {
						path := strings.Replace(pathParam.ReplaceAllStringFunc(rt.Path, func(m string) string {
							if m == p {
								return "@@"
							}
							return "1"
						}), "@@", url.PathEscape(bad), 1)
						check(rt, "path "+p+" "+fmt.Sprintf("%q", bad), e.do(who, rt.Method, path, nil), true)
					}
					for _, q := range queryNames(rt) {
						path := goodPath + "?" + url.Values{q: {bad}}.Encode()
						check(rt, "query "+q+" "+fmt.Sprintf("%q", bad), e.do(who, rt.Method, path, nil), true)
					}
					for _, body := range badBodies(rt, bad) {
						check(rt, fmt.Sprintf("body %s", body), e.do(who, rt.Method, goodPath, body), false)
					}
				}
				for _, h := range badHeaders {
					sender := who // the caller's own X-Appid and X-Shop-Id would replace the bad ones
					switch h {
					case "X-Appid":
						sender.appid = ""
					case "X-Shop-Id":
						sender.shopID = 0
					}
					check(rt, "header "+h, e.withHeader(h, badTexts[1]).do(sender, rt.Method, goodPath, nil), true)
				}
			}
		}
		t.Logf("%d requests with bad text", sent)
	})
}

// queryNames are the route's documented query parameters and the ones some
// route reads without documenting them.
func queryNames(rt httpx.Route) []string {
	names := append([]string(nil), badQueryParams...)
	for _, p := range rt.Query {
		names = append(names, p.Name)
	}
	return names
}

// badBodies are JSON bodies for rt with bad in every string field of its
// request type: once as JSON's \u0000 escape or raw invalid bytes. Routes
// that take no documented body get a small object anyway, in case they read
// one.
func badBodies(rt httpx.Route, bad string) [][]byte {
	if rt.Method == http.MethodGet || rt.Method == http.MethodDelete {
		return nil
	}
	var shape any = map[string]any{"name": badMarker, "reason": badMarker, "code": badMarker}
	if rt.Request != nil {
		shape = fillBad(reflect.TypeOf(rt.Request), 0)
	}
	data, _ := json.Marshal(shape)
	replacement := []byte(`a\u0000b`)
	if bad == badTexts[1] {
		replacement = []byte(bad) // raw, as json.Marshal would have made it U+FFFD
	}
	return [][]byte{bytes.ReplaceAll(data, []byte(badMarker), replacement)}
}

const badMarker = "@@BAD@@"

var jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// fillBad builds a JSON value of type t with badMarker in every string.
func fillBad(t reflect.Type, depth int) any {
	if depth > 6 {
		return nil
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return badMarker // time.Time and the like parse a string
	}
	switch t.Kind() {
	case reflect.Pointer:
		return fillBad(t.Elem(), depth)
	case reflect.String:
		return badMarker
	case reflect.Slice, reflect.Array:
		if v := fillBad(t.Elem(), depth+1); v != nil {
			return []any{v}
		}
		return []any{}
	case reflect.Map:
		return map[string]any{badMarker: fillBad(t.Elem(), depth+1)}
	case reflect.Struct:
		out := map[string]any{}
		fillBadFields(t, depth, out)
		return out
	}
	return nil
}

func fillBadFields(t reflect.Type, depth int, out map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				fillBadFields(ft, depth, out)
				continue
			}
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if v := fillBad(f.Type, depth+1); v != nil {
			out[name] = v
		}
	}
}
