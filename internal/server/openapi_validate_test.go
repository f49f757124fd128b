package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// docValidator checks real answers against /openapi.json with kin-openapi:
// the status must be documented for the operation and the body must match
// its schema.
type docValidator struct {
	t      *testing.T
	router routers.Router
	mu     sync.Mutex
	errs   []string
	seen   map[string]int // "METHOD /path/{id}" → answers validated
}

func newDocValidator(t *testing.T, e *env) *docValidator {
	t.Helper()
	r := e.do(caller{}, "GET", "/openapi.json", nil)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(r.body)
	if err != nil {
		t.Fatalf("load /openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("/openapi.json is not a valid OpenAPI document: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: e.ts.URL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &docValidator{t: t, router: router, seen: map[string]int{}}
}

func (v *docValidator) check(req *http.Request, res response) {
	route, params, err := v.router.FindRoute(req)
	if err != nil && (res.status == http.StatusNotFound || res.status == http.StatusMethodNotAllowed) {
		return // a path or method the API does not serve: the document's description covers these
	}
	if err != nil {
		v.fail("%s %s: not in the document: %v", req.Method, req.URL.Path, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.status,
		Header:                 res.header,
		Body:                   io.NopCloser(bytes.NewReader(res.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		v.fail("%s %s → %d %.300s\n    %v", req.Method, req.URL.Path, res.status, res.body, err)
	}
	if res.status >= 400 {
		v.checkCode(req, route, res)
	}
	v.mu.Lock()
	v.seen[req.Method+" "+route.Path]++
	v.mu.Unlock()
}

// checkCode fails when an error's code is not among the codes the document
// lists for the operation and status (x-error-codes). A 404 on a route with
// a path parameter may answer the thing's own *_not_found code, as its
// description says.
func (v *docValidator) checkCode(req *http.Request, route *routers.Route, res response) {
	var body struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil || body.Code == "" {
		v.fail("%s %s → %d without an error code: %.300s", req.Method, req.URL.Path, res.status, res.body)
		return
	}
	ref := route.Operation.Responses.Status(res.status)
	if ref == nil || ref.Value == nil {
		return // ValidateResponse has reported the undocumented status
	}
	listed, _ := ref.Value.Extensions["x-error-codes"].([]any)
	for _, c := range listed {
		if c == body.Code {
			return
		}
	}
	if res.status == http.StatusNotFound && strings.Contains(route.Path, "{") && strings.HasSuffix(body.Code, "_not_found") {
		return
	}
	v.fail("%s %s → %d %s: the code is not in the document's x-error-codes %v", req.Method, route.Path, res.status, body.Code, listed)
}

func (v *docValidator) fail(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

// finish fails the test on any mismatch, and when an operation the flows
// must cover was never answered.
func (v *docValidator) finish(mustCover []string) {
	v.t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, e := range v.errs {
		v.t.Error(e)
	}
	var missing []string
	for _, op := range mustCover {
		if v.seen[op] == 0 {
			missing = append(missing, op)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		v.t.Errorf("the flows never called: %s", strings.Join(missing, "; "))
	}
}

// TestOpenAPIMatchesRealResponses runs the main flows — logins, catalog,
// cart, preview, order, pay, refund, after-sales, coupons, flash claim —
// and validates every answer (successes and errors) against the route's
// documented status and schema.
func TestOpenAPIMatchesRealResponses(t *testing.T) {
	for _, engine := range db.TestEngines() {
		t.Run(string(engine), func(t *testing.T) {
			e := newEnv(t, db.TestDSN(t, engine), nil)
			v := newDocValidator(t, e)
			e.seen = v.check
			runMainFlows(t, e)
			v.finish(mainFlowOperations)
		})
	}
}

var mainFlowOperations = []string{
	"POST /admin/api/v1/auth/login", "POST /api/v1/auth/login",
	"GET /api/v1/categories", "GET /api/v1/products", "GET /api/v1/products/{id}",
	"GET /api/v1/cart", "POST /api/v1/cart/items", "PATCH /api/v1/cart/items/{id}", "PUT /api/v1/cart/items/{id}", "DELETE /api/v1/cart/items/{id}",
	"POST /api/v1/orders/preview", "POST /api/v1/orders", "GET /api/v1/orders/{id}", "GET /api/v1/orders",
	"GET /admin/api/v1/orders", "GET /admin/api/v1/orders/{id}",
	"POST /api/v1/orders/{id}/pay",
	"POST /admin/api/v1/orders/{id}/refunds", "GET /admin/api/v1/orders/{id}/refunds",
	"POST /api/v1/orders/{id}/aftersales", "GET /api/v1/aftersales/{id}", "GET /api/v1/aftersales",
	"GET /admin/api/v1/aftersales", "POST /admin/api/v1/aftersales/{id}/approve",
	"POST /api/v1/aftersales/{id}/ship-back", "POST /admin/api/v1/aftersales/{id}/receive", "GET /admin/api/v1/aftersales/{id}",
	"GET /admin/api/v1/aftersale-settings", "PUT /admin/api/v1/aftersale-settings",
	"POST /admin/api/v1/coupons", "GET /api/v1/coupons", "POST /api/v1/coupons/{id}/claim", "GET /api/v1/me/coupons",
	"GET /api/v1/flash-sales", "GET /api/v1/flash-sales/{id}", "GET /api/v1/flash-sales/{id}/token", "POST /api/v1/flash-sales/{id}/claim",
	"POST /api/v1/contents", "GET /api/v1/group-deals", "GET /api/v1/timed-discounts", "GET /admin/api/v1/staff", "GET /admin/api/v1/shops",
	"GET /admin/api/v1/timed-discounts", "GET /admin/api/v1/reconciliations", "GET /admin/api/v1/payments/stats",
}

func runMainFlows(t *testing.T, e *env) {
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise") // staff and buyer logins, a product, an order, a cart line
	e.enablePay(op, a, paysandbox.KeyModeCertificate)
	e.do(caller{}, "POST", "/admin/api/v1/auth/login", map[string]string{"username": "admin", "password": "wrong"})

	e.must(caller{appid: a.appid}, 200, "GET", "/api/v1/categories", nil)
	e.must(caller{appid: a.appid}, 200, "GET", "/api/v1/products?q=连衣裙", nil)
	e.must(caller{appid: a.appid}, 200, "GET", fmt.Sprintf("/api/v1/products/%d", a.productID), nil)
	e.do(caller{appid: a.appid}, "GET", "/api/v1/products/999999", nil)
	e.do(caller{}, "GET", "/api/v1/products", nil)

	e.must(a.member, 200, "GET", "/api/v1/cart", nil)
	e.must(a.member, 200, "PATCH", fmt.Sprintf("/api/v1/cart/items/%d", a.cartLineID), map[string]any{"quantity": 1})
	e.must(a.member, 200, "PUT", fmt.Sprintf("/api/v1/cart/items/%d", a.cartLineID), map[string]any{"quantity": 2})
	e.do(a.member, "POST", "/api/v1/cart/items", map[string]any{"sku_id": a.skuID, "quantity": "two"})
	e.must(a.member, 200, "DELETE", fmt.Sprintf("/api/v1/cart/items/%d", a.cartLineID), nil)

	coupon := e.newCoupon(a, "满50减10", true)
	e.must(caller{appid: a.appid}, 200, "GET", "/api/v1/coupons", nil)
	wallet := e.claimCoupon(a.member, coupon)
	e.must(a.member, 200, "GET", "/api/v1/me/coupons", nil)

	items := []map[string]any{{"sku_id": a.skuID, "quantity": 2}}
	e.must(a.member, 200, "POST", "/api/v1/orders/preview", map[string]any{"items": items})
	e.must(a.member, 200, "POST", "/api/v1/orders/preview", map[string]any{"items": items, "member_coupon_id": wallet})
	o := e.withHeader("Idempotency-Key", "doc-order-0001").must(a.member, 201, "POST", "/api/v1/orders",
		map[string]any{"items": items, "member_coupon_id": wallet, "address": testAddress})
	e.do(a.member, "POST", "/api/v1/orders", map[string]any{"items": items, "address": testAddress}) // no key
	orderID := int64(o["id"].(float64))
	e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/orders/%d", orderID), nil)
	e.must(a.member, 200, "GET", "/api/v1/orders?limit=1", nil)
	e.must(a.owner, 200, "GET", "/admin/api/v1/orders", nil)

	e.payOrder(a, a.member, orderID)
	waitFor(t, "the order paid", func() bool { return e.orderStatus(a.owner, orderID) == "paid" })
	refunds := fmt.Sprintf("/admin/api/v1/orders/%d/refunds", orderID)
	e.keyed().must(a.owner, 201, "POST", refunds, map[string]any{"amount": 1000, "reason": "少发一件"})
	e.keyed().do(a.owner, "POST", refunds, map[string]any{"amount": 99999999})
	e.must(a.owner, 200, "GET", refunds, nil)

	create := fmt.Sprintf("/api/v1/orders/%d/aftersales", orderID)
	as := e.must(a.member, 201, "POST", create, map[string]any{"amount": 2000, "reason": "尺码不合适"})
	e.do(a.member, "POST", create, map[string]any{"amount": 1000, "reason": "再来一个"})
	e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/aftersales/%v", as["id"]), nil)
	e.must(a.member, 200, "GET", "/api/v1/aftersales", nil)
	e.must(a.owner, 200, "GET", "/admin/api/v1/aftersales?status=requested", nil)
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", as["id"]), nil)
	// A return of one unit of the shipped order's line.
	e.must(a.owner, 200, "GET", "/admin/api/v1/aftersale-settings", nil)
	e.must(a.owner, 200, "PUT", "/admin/api/v1/aftersale-settings", map[string]any{"auto_confirm_days": 10, "return_ship_days": 7, "return_receive_days": 10})
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", orderID), map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567890"})
	line := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/orders/%d", orderID), nil)["lines"].([]any)[0].(map[string]any)["id"]
	ret := e.must(a.member, 201, "POST", create, map[string]any{"type": "return_refund", "reason": "质量问题", "reason_code": "quality",
		"lines": []map[string]any{{"order_line_id": line, "quantity": 1}}})
	e.do(a.member, "POST", create, map[string]any{"type": "return_refund", "reason": "质量问题", "lines": []map[string]any{{"order_line_id": line, "quantity": 5}}})
	e.do(a.member, "POST", fmt.Sprintf("/api/v1/aftersales/%v/ship-back", ret["id"]), map[string]any{"carrier": "中通", "tracking_no": "ZT1234567"})
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", ret["id"]), nil)
	e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/aftersales/%v/ship-back", ret["id"]), map[string]any{"carrier": "中通", "tracking_no": "ZT1234567"})
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/receive", ret["id"]), nil)
	e.do(a.owner, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/receive", ret["id"]), nil)
	e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/aftersales/%v", ret["id"]), nil)
	e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", orderID), nil)

	e.setStock(a, 100)
	sale := e.newSale(a, "整点秒杀", 10, time.Now())
	e.must(caller{appid: a.appid}, 200, "GET", "/api/v1/flash-sales", nil)
	e.must(caller{appid: a.appid}, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d", sale), nil)
	tok := e.must(a.member, 200, "GET", fmt.Sprintf("/api/v1/flash-sales/%d/token", sale), nil)["token"]
	e.do(a.member, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": "forged"})
	claim := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/flash-sales/%d/claim", sale), map[string]any{"token": tok})
	e.withHeader("Idempotency-Key", "doc-order-0002").must(a.member, 201, "POST", "/api/v1/orders",
		map[string]any{"flash_claim_id": claim["id"], "address": testAddress})

	runErrorFlows(t, e, op, a, orderID)
	runListFlows(e, op, a)
}

// runErrorFlows sends what the platform refuses for every route of a kind
// (no session, no permission, a bad id, a made-up cursor, a reused
// idempotency key, too many requests) so their answers are validated, codes
// included.
func runErrorFlows(t *testing.T, e *env, op caller, a testShop, orderID int64) {
	e.do(caller{appid: a.appid}, "GET", "/api/v1/cart", nil)                                 // 401: no buyer session
	e.do(caller{}, "GET", "/admin/api/v1/orders", nil)                                       // 401: no staff session
	e.do(a.owner, "GET", "/admin/api/v1/shops", nil)                                         // 403: operators only
	e.do(a.member, "GET", "/api/v1/orders/999999", nil)                                      // 404
	e.do(a.owner, "GET", "/admin/api/v1/orders/999999", nil)                                 // 404
	e.do(a.member, "GET", "/api/v1/orders/abc", nil)                                         // 400 invalid_id
	e.do(a.owner, "GET", "/admin/api/v1/orders?cursor=bm9wZQ", nil)                          // 400 invalid_cursor
	e.do(a.owner, "GET", "/admin/api/v1/orders?limit=1000", nil)                             // 400 invalid_query
	e.do(a.owner, "GET", "/admin/api/v1/payments/stats?days=91", nil)                        // 400 invalid_query
	e.do(caller{appid: "wx_no_such_app"}, "GET", "/api/v1/products", nil)                    // 404 shop_not_found
	e.withHeader("Idempotency-Key", "doc-order-0001").do(a.member, "POST", "/api/v1/orders", // 409 idempotency_key_reused
		map[string]any{"items": []map[string]any{{"sku_id": a.skuID, "quantity": 3}}, "address": testAddress})
	e.send(a.member, "POST", "/api/v1/contents", strings.NewReader(`{"kind":"comment"}`), "text/plain")                           // 415
	e.do(a.member, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "target": "product:1", "text": "x", "extra": 1}) // 400 unknown_field
	e.do(a.member, "POST", "/api/v1/contents", map[string]any{"kind": "nope", "target": "product:1", "text": "好评"})               // 400 invalid_fields
	limited := false
	for i := 0; i < 30 && !limited; i++ { // 20 a minute per buyer, then 429 with Retry-After
		r := e.do(a.member, "POST", "/api/v1/contents", map[string]any{"kind": "comment", "target": fmt.Sprintf("product:%d", a.productID), "text": fmt.Sprintf("第%d条评论", i)})
		limited = r.status == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("30 submissions in a row were never refused with 429")
	}
}

// runListFlows reads the lists that became pages.
func runListFlows(e *env, op caller, a testShop) {
	shop := caller{appid: a.appid}
	e.must(shop, 200, "GET", "/api/v1/group-deals", nil)
	e.must(shop, 200, "GET", "/api/v1/timed-discounts", nil)
	e.must(shop, 200, "GET", "/api/v1/coupons?limit=1", nil)
	e.must(a.owner, 200, "GET", "/admin/api/v1/staff?limit=1", nil)
	e.must(a.owner, 200, "GET", "/admin/api/v1/timed-discounts", nil)
	e.must(a.owner, 200, "GET", "/admin/api/v1/reconciliations", nil)
	e.must(a.owner, 200, "GET", "/admin/api/v1/payments/stats?days=7", nil)
	e.must(op, 200, "GET", "/admin/api/v1/shops?limit=1", nil)
}

// TestOpenAPISchemaNamesFollowGoTypes: every route's body and answer are
// documented by the schema of their own Go type. With bare type names,
// POST /api/v1/orders was documented with the shop-creation body and cart
// items as moderation content.
func TestOpenAPISchemaNamesFollowGoTypes(t *testing.T) {
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(e.do(caller{}, "GET", "/openapi.json", nil).body)
	if err != nil {
		t.Fatal(err)
	}
	want := func(v any) string {
		if v == nil {
			return ""
		}
		typ := reflect.TypeOf(v)
		for typ.Kind() == reflect.Slice || typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.Name() == "" || strings.Contains(typ.Name(), "[") {
			return ""
		}
		return "#/components/schemas/" + path.Base(typ.PkgPath()) + "." + typ.Name()
	}
	refOf := func(s *openapi3.SchemaRef) string {
		if s != nil && s.Value != nil && s.Value.Items != nil {
			s = s.Value.Items
		}
		if s == nil {
			return ""
		}
		return s.Ref
	}
	checked := 0
	for _, rt := range e.srv.API.Routes() {
		op := doc.Paths.Value(strings.ReplaceAll(rt.Path, "...}", "}")).GetOperation(rt.Method)
		if w := want(rt.Request); w != "" {
			w += ".input" // a request body's own component: no field required
			checked++
			if got := refOf(op.RequestBody.Value.Content.Get("application/json").Schema); got != w {
				t.Errorf("%s %s: body documented as %q, want %q", rt.Method, rt.Path, got, w)
			}
		}
		if w := want(rt.Response); w != "" {
			checked++
			res := op.Responses.Value(strconv.Itoa(rt.Status))
			if got := refOf(res.Value.Content.Get("application/json").Schema); got != w {
				t.Errorf("%s %s: answer documented as %q, want %q", rt.Method, rt.Path, got, w)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d bodies checked", checked)
	}
}
