package server_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestOpenAPIDocumentsEveryRoute checks both directions: every registered
// route is in /openapi.json with its schemas, and every documented operation
// is served (it does not fall through to route_not_found).
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	r := e.do(caller{}, "GET", "/openapi.json", nil)
	if err := json.Unmarshal(r.body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %v %s", err, r.body[:min(200, len(r.body))])
	}
	routes := e.srv.API.Routes()
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, rt := range routes {
		op, ok := doc.Paths[strings.ReplaceAll(rt.Path, "...}", "}")][strings.ToLower(rt.Method)] // {key...} is {key} in OpenAPI
		if !ok {
			t.Errorf("%s %s is not in the OpenAPI document", rt.Method, rt.Path)
			continue
		}
		if rt.Summary == "" || !strings.Contains(string(op), `"responses"`) {
			t.Errorf("%s %s has no summary or responses", rt.Method, rt.Path)
		}
		if rt.Request != nil && !strings.Contains(string(op), `"requestBody"`) {
			t.Errorf("%s %s takes a body the document does not describe", rt.Method, rt.Path)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			res := e.do(caller{}, strings.ToUpper(method), strings.ReplaceAll(path, "{id}", "1"), nil)
			if res.code() == "route_not_found" {
				t.Errorf("documented %s %s is not served", method, path)
			}
		}
	}
}

// TestRoutesAreOnlyRegisteredThroughTheAPI fails when code adds a handler to
// a ServeMux directly, which would bypass the OpenAPI document and the
// access guards. Only the server's fallback and its extra mounts may.
func TestRoutesAreOnlyRegisteredThroughTheAPI(t *testing.T) {
	root := filepath.Join("..")
	allowed := map[string]int{"server/server.go": 2, "platform/httpx/api.go": 1}
	found := map[string]int{}
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Handle" || sel.Sel.Name == "HandleFunc") {
				if id, ok := sel.X.(*ast.SelectorExpr); ok && id.Sel.Name == "mux" {
					rel, _ := filepath.Rel(root, path)
					found[filepath.ToSlash(rel)]++
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for file, n := range found {
		if n > allowed[file] {
			t.Errorf("%s registers %d handlers on a mux directly (allowed %d): add routes with API.Add", file, n, allowed[file])
		}
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.must(caller{}, 200, "GET", "/healthz", nil)
		e.must(caller{}, 200, "GET", "/readyz", nil)
		a := e.newShop(e.operator(), "甲", "enterprise")
		e.must(caller{appid: a.appid}, 200, "GET", "/api/v1/products?q=连衣裙", nil)
		r := e.do(caller{}, "GET", "/metrics", nil)
		for _, want := range []string{
			`kaidian_http_requests_total{method="GET",route="GET /api/v1/products",status="200"}`,
			`kaidian_http_request_duration_seconds_bucket{method="GET",route="GET /api/v1/products"`,
			`go_sql_open_connections`, `go_goroutines`, `kaidian_jobs{kind="maintenance.sweep",state="queued"} 1`,
		} {
			if !strings.Contains(r.String(), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if id := r.header.Get("X-Request-Id"); len(id) < 8 {
			t.Errorf("no request id header: %q", id)
		}
		if !strings.Contains(e.logs.String(), `"request_id"`) {
			t.Error("logs carry no request id")
		}
		e.srv.DB.Close()
		if r := e.do(caller{}, "GET", "/readyz", nil); r.status != 503 {
			t.Errorf("/readyz with the database closed: %d", r.status)
		}
		e.must(caller{}, 200, "GET", "/healthz", nil)
	})
}

// TestSecretsAreNeverShownNorLogged sets every secret of a shop, then reads
// the shop every way there is: no response, no log line and no database
// column holds a secret in clear.
func TestSecretsAreNeverShownNorLogged(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		a := e.newShop(op, "甲", "enterprise")
		key, cert := testKeyAndCert(t)
		secrets := map[string]string{"app_secret": "secret-of-" + a.appid, "apiv3_key": "0123456789abcdefghijABCDEFGHIJ12",
			"mch_private_key": key, "platform_cert": cert}
		shopPath := "/admin/api/v1/shops/" + itoa(a.id)
		updated := e.must(op, 200, "PATCH", shopPath, map[string]any{"secrets": secrets})
		set := updated["secrets_set"].(map[string]any)
		if set["apiv3_key"] != true || set["mch_private_key"] != true || set["platform_cert"] != true || set["pay_public_key"] != false {
			t.Fatalf("secrets_set: %v", set)
		}
		var seen strings.Builder
		for _, r := range []response{e.do(op, "GET", shopPath, nil), e.do(op, "GET", "/admin/api/v1/shops", nil),
			e.do(a.owner, "GET", "/admin/api/v1/shop", nil), e.do(op, "GET", "/openapi.json", nil)} {
			seen.Write(r.body)
		}
		seen.WriteString(e.logs.String())
		var stored string
		if err := e.srv.DB.QueryRow(t.Context(), `SELECT app_secret || apiv3_key || mch_private_key FROM shops WHERE id = ?`, a.id).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		seen.WriteString(stored)
		for name, v := range secrets {
			probe := v
			if len(probe) > 40 {
				probe = probe[40:80] // a piece of the PEM body
			}
			if strings.Contains(seen.String(), probe) {
				t.Errorf("%s appears in a response, a log or the database in clear", name)
			}
		}
		if r := e.do(op, "PATCH", shopPath, map[string]any{"secrets": map[string]string{"apiv3_key": "short"}}); r.status != 400 {
			t.Errorf("a 5-byte APIv3 key: %d", r.status)
		}
	})
}
