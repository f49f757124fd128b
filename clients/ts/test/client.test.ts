// The client without a server: URLs, headers, bodies and errors through a
// fake transport, and the wx.request transport through a fake wx.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, KaidianError, newIdempotencyKey, wxTransport, type Transport, type TransportRequest, type WxRequestOption } from "../src/index.js";

function recorder(status: number, body: string, headers: Record<string, string> = {}) {
  const seen: TransportRequest[] = [];
  const transport: Transport = async (req) => {
    seen.push(req);
    return { status, text: body, header: (n) => headers[n.toLowerCase()] };
  };
  return { seen, transport };
}

test("path and query parameters, auth headers, Idempotency-Key, JSON body", async () => {
  const { seen, transport } = recorder(201, `{"id":7,"status":"pending_payment"}`);
  const api = createClient({ baseUrl: "http://shop.test/", appid: "wxapp", token: "tok", transport });
  await api.GET("/api/v1/products", { query: { q: "连衣裙", limit: 5, cursor: undefined } });
  assert.equal(seen[0].url, "http://shop.test/api/v1/products?q=%E8%BF%9E%E8%A1%A3%E8%A3%99&limit=5");
  assert.equal(seen[0].headers["X-Appid"], "wxapp");
  assert.equal(seen[0].headers["Authorization"], "Bearer tok");
  assert.equal(seen[0].body, undefined);
  const order = await api.POST("/api/v1/orders", {
    body: { from_cart: true, buyer_note: "", address: { name: "张三", phone: "13800138000", province: "浙江省", city: "杭州市", district: "西湖区", detail: "x", province_code: "", city_code: "", district_code: "", postal_code: "" } },
    idempotencyKey: "key-0000001",
  });
  assert.equal(order.id, 7);
  assert.equal(seen[1].method, "POST");
  assert.equal(seen[1].headers["Idempotency-Key"], "key-0000001");
  assert.equal(seen[1].headers["Content-Type"], "application/json");
  assert.equal(JSON.parse(seen[1].body ?? "").from_cart, true);
  await api.POST("/api/v1/orders/{id}/pay", { path: { id: 7 } });
  assert.equal(seen[2].url, "http://shop.test/api/v1/orders/7/pay");
});

test("204 answers nothing; Idempotency-Keys are 32 hex characters, each new", async () => {
  const { seen, transport } = recorder(204, "");
  const api = createClient({ baseUrl: "http://shop.test", token: () => "t2", transport });
  assert.equal(await api.POST("/api/v1/auth/logout"), undefined);
  assert.equal(seen[0].headers["Authorization"], "Bearer t2");
  const a = newIdempotencyKey();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, newIdempotencyKey());
});

test("an error answer becomes a KaidianError with the stable code, fields and Retry-After", async () => {
  const { transport } = recorder(429, `{"code":"too_many_requests","message":"slow down","fields":{"phone":"wait"}}`, { "retry-after": "3", "x-request-id": "r1" });
  const seen: KaidianError[] = [];
  const api = createClient({ baseUrl: "http://shop.test", transport, onError: (e) => seen.push(e) });
  await assert.rejects(api.POST("/api/v1/me/phone/code", { body: { phone: "13800138000" } }), (e: unknown) => {
    assert.ok(e instanceof KaidianError);
    assert.equal(e.status, 429);
    assert.equal(e.code, "too_many_requests");
    assert.equal(e.message, "slow down");
    assert.deepEqual(e.fields, { phone: "wait" });
    assert.equal(e.retryAfter, 3);
    assert.equal(e.requestId, "r1");
    return true;
  });
  assert.equal(seen.length, 1);
  const html = createClient({ baseUrl: "http://shop.test", transport: recorder(502, "<html>bad gateway</html>").transport });
  await assert.rejects(html.GET("/api/v1/cart"), (e: unknown) => e instanceof KaidianError && e.code === "http_502");
});

test("wx.request transport: method, header, text body; answers and failures", async () => {
  const calls: WxRequestOption[] = [];
  const wx = {
    request(o: WxRequestOption) {
      calls.push(o);
      if (o.url.endsWith("/fail")) o.fail?.({ errMsg: "request:fail timeout" });
      else o.success?.({ statusCode: 200, header: { "Content-Type": "application/json" }, data: `{"lines":[],"selected_total":0}` });
    },
  };
  const api = createClient({ baseUrl: "https://shop.test", token: "tok", transport: wxTransport(wx) });
  const cart = await api.GET("/api/v1/cart");
  assert.equal(cart.selected_total, 0);
  assert.equal(calls[0].method, "GET");
  assert.equal(calls[0].dataType, "text");
  assert.equal(calls[0].header?.["Authorization"], "Bearer tok");
  const raw = wxTransport(wx);
  await assert.rejects(raw({ method: "GET", url: "https://shop.test/fail", headers: {} }), (e: unknown) => e instanceof KaidianError && e.code === "network_error");
  await assert.rejects(
    api.PATCH("/api/v1/cart/items/{id}", { path: { id: 1 }, body: { quantity: 2 } as never }),
    (e: unknown) => e instanceof KaidianError && e.code === "method_not_supported",
  );
});

// Compile-time checks: these lines must not type-check (tsc fails on an unused @ts-expect-error).
export function typeChecks(api: ReturnType<typeof createClient>) {
  // @ts-expect-error no such path
  void api.GET("/api/v1/nope");
  // @ts-expect-error POST /api/v1/orders needs its Idempotency-Key
  void api.POST("/api/v1/orders", { body: { from_cart: true, buyer_note: "", address: null as never } });
  // @ts-expect-error the path parameter is required
  void api.POST("/api/v1/orders/{id}/pay");
  // @ts-expect-error GET /api/v1/cart takes no body
  void api.GET("/api/v1/cart", { body: {} });
  void (async () => {
    const o = await api.GET("/api/v1/orders/{id}", { path: { id: 1 } });
    // @ts-expect-error an order's status is one of its enum values
    const s: "nope" = o.status;
    void s;
  });
}
