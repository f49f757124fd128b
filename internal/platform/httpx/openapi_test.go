package httpx_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

type color string

func (color) EnumValues() []string { return []string{"red", "blue"} }

// ErrorBody has the name of httpx.ErrorBody: the two must stay apart.
type ErrorBody struct {
	Shade color `json:"shade"`
}

type thing struct {
	Name    string     `json:"name"`
	Note    string     `json:"note,omitempty"`
	Parent  *ErrorBody `json:"parent" doc:"the parent"`
	Tags    []string   `json:"tags"`
	Kind    string     `json:"kind" enum:"a,b"`
	private int
}

func docOf(t *testing.T, rts ...httpx.Route) string {
	t.Helper()
	api := httpx.NewAPI(http.NewServeMux(), httpx.Guards{})
	for _, rt := range rts {
		rt.Handler = func(http.ResponseWriter, *http.Request) error { return nil }
		api.Add(rt)
	}
	b, err := json.Marshal(api.OpenAPI("t", "1"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenAPISchemas(t *testing.T) {
	doc := docOf(t,
		httpx.Route{Method: "POST", Path: "/things/{id}", Summary: "s", Access: httpx.Staff, Perm: auth.PermOrdersManage,
			Request: thing{}, Response: httpx.ErrorBody{}, Idempotent: true, Errors: map[int][]string{409: {"thing_taken"}}},
		httpx.Route{Method: "GET", Path: "/things", Summary: "s", Access: httpx.Shop, Response: []ErrorBody{}, RateLimited: true},
		httpx.Route{Method: "GET", Path: "/things/{id}", Summary: "s", Access: httpx.Shop, Response: thing{}})
	for _, want := range []string{
		`"httpx_test.ErrorBody":{"properties":{"shade":{"enum":["red","blue"],"type":"string"}},"required":["shade"]`,
		`"httpx.ErrorBody":{"properties":`,
		`"httpx_test.thing":{"properties":`,
		`"required":["kind","name","tags"]`,
		// A request body's fields are never required: the server defaults
		// what is missing or answers with a validation error.
		`"httpx_test.thing.input":{"properties":`,
		`"schema":{"$ref":"#/components/schemas/httpx_test.thing.input"}`,
		`"parent":{"allOf":[{"$ref":"#/components/schemas/httpx_test.ErrorBody.input"}],"description":"the parent","nullable":true}`,
		`"parent":{"allOf":[{"$ref":"#/components/schemas/httpx_test.ErrorBody"}],"description":"the parent","nullable":true}`,
		`"tags":{"items":{"type":"string"},"nullable":true,"type":"array"}`,
		`"kind":{"enum":["a","b"],"type":"string"}`,
		`"name":"Idempotency-Key","required":true`,
		`"in":"header","name":"X-Shop-Id"`,
		`"in":"header","name":"X-CSRF-Token"`,
		`"in":"header","name":"X-Appid"`,
		`"409":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}},"description":"Conflict: idempotency_key_reused, thing_taken"`,
		`"x-error-codes":["account_disabled","csrf_failed","permission_denied","shop_not_granted","totp_enrolment_required"]`,
		`"429":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}},"description":"Too Many Requests: too_many_requests","headers":{"Retry-After":`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks %s", want)
		}
	}
	var parsed struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
		t.Fatal(err)
	}
	if req, ok := parsed.Components.Schemas["httpx_test.thing.input"]["required"]; ok {
		t.Errorf("a request body's fields are required: %v", req)
	}
	if strings.Contains(doc, "private") {
		t.Error("an unexported field is documented")
	}
}

// A route that answers a file or takes one documents a binary body of its
// media type, and a file upload reaches its handler byte for byte (it is
// not refused as text).
func TestFileRoutes(t *testing.T) {
	const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	doc := docOf(t,
		httpx.Route{Method: "GET", Path: "/things.xlsx", Summary: "s", Access: httpx.Public, Produces: xlsx},
		httpx.Route{Method: "POST", Path: "/things/import", Summary: "s", Access: httpx.Public, Consumes: xlsx})
	for _, want := range []string{
		`"content":{"` + xlsx + `":{"schema":{"format":"binary","type":"string"}}}`,
		`"requestBody":{"content":{"` + xlsx + `":{"schema":{"format":"binary","type":"string"}}},"required":true}`,
		`"headers":{"Content-Disposition":{`,
		`"413":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}},"description":"Request Entity Too Large: body_too_large"`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks %s", want)
		}
	}

	var got []byte
	mux := http.NewServeMux()
	api := httpx.NewAPI(mux, httpx.Guards{Staff: func(r *http.Request, _ auth.Permission) (*http.Request, error) { return r, nil }})
	api.Add(httpx.Route{Method: "POST", Path: "/upload", Access: httpx.Staff, Consumes: xlsx, BodyLimit: 64,
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			var err error
			got, err = io.ReadAll(r.Body)
			return err
		}})
	body := "PK\x03\x04\x00\xff binary"
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/upload", strings.NewReader(body)))
	if rec.Code != 200 || string(got) != body {
		t.Fatalf("binary upload: %d %q, handler read %q", rec.Code, rec.Body, got)
	}
}
