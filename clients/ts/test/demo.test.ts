// The client against a running `kaidian demo` (KAIDIAN_BASE=http://127.0.0.1:PORT):
// a new buyer logs in through the WeChat sandbox, browses, searches, fills a
// cart, previews, orders (Idempotency-Key), pays in the WeChat Pay sandbox,
// asks for a refund (after-sale) that staff approve, claims a coupon and uses
// it, claims a flash sale and buys it. The demo seeds no coupon or flash sale,
// so the shop owner creates one of each through the admin API first.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createClient, KaidianError, newIdempotencyKey, type Client, type components } from "../src/index.js";
import { DEMO_APPID, DEMO_OWNER, acceptSubscription, eventually, loginCode, requestPayment } from "./sandbox.js";

type Schemas = components["schemas"];

const base = (process.env.KAIDIAN_BASE ?? "").replace(/\/+$/, "");
const skip = base ? false : "set KAIDIAN_BASE to a running kaidian demo (go run ./cmd/kaidian demo --addr 127.0.0.1:0)";

const address: Schemas["order.Address"] = {
  name: "张三",
  phone: "13800138000",
  province: "浙江省",
  city: "杭州市",
  district: "西湖区",
  detail: "文三路 1 号",
  province_code: "",
  city_code: "",
  district_code: "",
  postal_code: "",
};

// A buyer of its own on every run, so the test can run again on the same demo.
const openid = `ts-client-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
let buyer: Client;
let staff: Client;

/** Pays order id in the sandbox and waits until the server has applied the notification. */
async function pay(orderId: number): Promise<Schemas["order.BuyerOrder"]> {
  const params = await buyer.POST("/api/v1/orders/{id}/pay", { path: { id: orderId } });
  assert.equal(params.signType, "RSA");
  assert.match(params.package, /^prepay_id=/);
  const paid = await requestPayment(base, params);
  assert.equal(paid.delivered, true);
  const order = await eventually(
    () => buyer.GET("/api/v1/orders/{id}", { path: { id: orderId } }),
    (o) => o.status === "paid",
  );
  assert.equal(order.status, "paid");
  return order;
}

before(async () => {
  if (!base) return;
  staff = createClient({ baseUrl: base });
  const login = await staff.POST("/admin/api/v1/auth/login", { body: DEMO_OWNER });
  staff.setToken(login.token);
});

test("the demo serves the document the client was generated from", { skip }, async () => {
  const live = (await (await fetch(base + "/openapi.json")).json()) as { info: { version: string } };
  const committed = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8")) as { info: { version: string } };
  live.info.version = committed.info.version = "";
  assert.deepEqual(live, committed, "the demo's /openapi.json differs from clients/ts/openapi.json: regenerate (see clients/ts/README.md)");
});

test("a buyer's journey through the demo with the typed client", { skip }, async (t) => {
  let token: string | undefined;
  buyer = createClient({ baseUrl: base, appid: DEMO_APPID, token: () => token });

  await t.test("login through the WeChat sandbox (wx.login code → session)", async () => {
    const { code } = await loginCode(base, openid);
    const res = await buyer.POST("/api/v1/auth/login", { body: { code } });
    assert.equal(res.created, true);
    assert.ok(res.token.length > 10);
    token = res.token;
    const me = await buyer.GET("/api/v1/me");
    assert.equal(me.id, res.member.id);
  });

  await t.test("unauthenticated calls fail with the server's stable code", async () => {
    const anon = createClient({ baseUrl: base, appid: DEMO_APPID });
    await assert.rejects(anon.GET("/api/v1/me"), (e: unknown) => e instanceof KaidianError && e.status === 401 && e.code === "unauthenticated");
    await assert.rejects(
      buyer.GET("/api/v1/products/{id}", { path: { id: 999999 } }),
      (e: unknown) => e instanceof KaidianError && e.status === 404 && e.code.endsWith("_not_found"),
    );
  });

  let skuId = 0;
  let price = 0;
  await t.test("browse: categories, a page of products, the next page, a product's SKUs", async () => {
    const cats = await buyer.GET("/api/v1/categories");
    assert.ok(Array.isArray(cats) && cats.length > 0);
    const page = await buyer.GET("/api/v1/products", { query: { limit: 5 } });
    assert.equal(page.items?.length, 5);
    assert.ok(page.next_cursor, "24 products: there is a next page");
    const next = await buyer.GET("/api/v1/products", { query: { limit: 5, cursor: page.next_cursor } });
    assert.notEqual(next.items?.[0]?.id, page.items?.[0]?.id);
    const p = await buyer.GET("/api/v1/products/{id}", { path: { id: 4 } });
    assert.equal(p.title, "纯棉圆领短袖T恤");
    const sku = p.skus?.find((s) => s.stock > 5);
    assert.ok(sku, "a SKU in stock");
    skuId = sku.id;
    price = sku.price;
  });

  await t.test("search in Chinese without spaces", async () => {
    const res = await buyer.GET("/api/v1/products", { query: { q: "连衣裙" } });
    assert.ok(res.items?.some((s) => s.title === "夏季新款碎花连衣裙"));
  });

  await t.test("cart: add, read", async () => {
    const cart = await buyer.POST("/api/v1/cart/items", { body: { sku_id: skuId, quantity: 2 } });
    const line = cart.lines?.find((l) => l.sku_id === skuId);
    assert.equal(line?.quantity, 2);
    assert.equal(cart.selected_total, 2 * price);
    const again = await buyer.GET("/api/v1/cart");
    assert.equal(again.selected_total, 2 * price);
  });

  let preview: Schemas["order.Preview"];
  await t.test("preview the cart's checkout: what the order will charge", async () => {
    preview = await buyer.POST("/api/v1/orders/preview", { body: { from_cart: true, address } });
    assert.equal(preview.breakdown.goods_amount, 2 * price);
    assert.ok(preview.total >= 2 * price);
  });

  let orderId = 0;
  await t.test("order from the cart with an Idempotency-Key: a retry answers the same order", async () => {
    const key = newIdempotencyKey();
    const body = { from_cart: true, address, buyer_note: "" };
    const order = await buyer.POST("/api/v1/orders", { body, idempotencyKey: key });
    assert.equal(order.status, "pending_payment");
    assert.equal(order.total_amount, preview.total);
    const retry = await buyer.POST("/api/v1/orders", { body, idempotencyKey: key });
    assert.equal(retry.id, order.id);
    orderId = order.id;
    const cart = await buyer.GET("/api/v1/cart");
    assert.ok(!cart.lines?.some((l) => l.sku_id === skuId), "the ordered lines left the cart");
  });

  await t.test("subscription templates to ask for before paying", async () => {
    const next = await buyer.GET("/api/v1/me/subscriptions/next", { query: { kind: "order_paid" } });
    assert.ok(next.template_ids?.includes("demo-tpl-order-paid"), "the demo's \"paid\" template is asked for");
    for (const id of next.template_ids ?? []) {
      await acceptSubscription(base, openid, id); // the buyer taps "allow"
    }
    if (next.template_ids?.length) {
      const results = Object.fromEntries(next.template_ids.map((id) => [id, "accept"]));
      await buyer.POST("/api/v1/me/subscriptions", { body: { results } });
    }
  });

  let paidAmount = 0;
  await t.test("pay in the WeChat Pay sandbox (wx.requestPayment's parameters)", async () => {
    const order = await pay(orderId);
    paidAmount = order.paid_amount;
    assert.equal(order.paid_amount, order.total_amount);
    const mine = await buyer.GET("/api/v1/orders");
    assert.equal(mine.items?.[0]?.id, orderId);
  });

  await t.test("after-sale: ask for a refund of the whole order; staff approve; WeChat Pay refunds it", async () => {
    const req = await buyer.POST("/api/v1/orders/{id}/aftersales", {
      path: { id: orderId },
      body: { type: "refund_only", reason_code: "changed_mind", reason: "不想要了", amount: paidAmount, lines: null, photos: null },
    });
    assert.equal(req.status, "requested");
    const approved = await staff.POST("/admin/api/v1/aftersales/{id}/approve", { path: { id: req.id } });
    assert.equal(approved.id, req.id);
    const done = await eventually(
      () => buyer.GET("/api/v1/orders/{id}", { path: { id: orderId } }),
      (o) => o.status === "refunded",
    );
    assert.equal(done.status, "refunded");
    assert.equal(done.refunded_amount, done.paid_amount);
  });

  await t.test("coupons: claim the shop's coupon, preview with it, order with it", async () => {
    const created = await staff.POST("/admin/api/v1/coupons", {
      body: {
        name: `满100减20 ${openid.slice(-6)}`,
        kind: "amount",
        amount: 2000,
        threshold: 10000,
        rate_bp: 0,
        cap: 0,
        scope: "all",
        scope_ids: null,
        valid_days: 30,
        total_quantity: 100,
        per_user_limit: 1,
        claimable: true,
        auto_rule: "",
      },
    });
    const claimable = await buyer.GET("/api/v1/coupons");
    assert.ok(claimable.items?.some((c) => c.id === created.id), "the new coupon is claimable");
    const wallet = await buyer.POST("/api/v1/coupons/{id}/claim", { path: { id: created.id } });
    assert.equal(wallet.status, "unused");
    await assert.rejects(
      buyer.POST("/api/v1/coupons/{id}/claim", { path: { id: created.id } }),
      (e: unknown) => e instanceof KaidianError && e.status === 409,
    );
    const mine = await buyer.GET("/api/v1/me/coupons");
    assert.ok(mine.items?.some((c) => c.id === wallet.id));
    const items = [{ sku_id: 1, quantity: 1 }]; // ¥199 dress: above the threshold
    const pv = await buyer.POST("/api/v1/orders/preview", { body: { from_cart: false, items, address, member_coupon_id: wallet.id } });
    assert.equal(pv.breakdown.coupon_discount, 2000);
    const order = await buyer.POST("/api/v1/orders", {
      body: { from_cart: false, items, address, buyer_note: "", member_coupon_id: wallet.id },
      idempotencyKey: newIdempotencyKey(),
    });
    assert.equal(order.total_amount, pv.total);
    assert.equal(order.member_coupon_id, wallet.id);
    await pay(order.id);
  });

  await t.test("flash sale: claim with a token, then order the claim and pay", async () => {
    const now = new Date();
    const sale = await staff.POST("/admin/api/v1/flash-sales", {
      body: {
        title: "整点秒杀 T恤",
        sku_id: skuId,
        price: 990,
        quantity: 5,
        per_user_limit: 1,
        pay_minutes: 5,
        starts_at: now.toISOString(),
        ends_at: new Date(now.getTime() + 3600_000).toISOString(),
      },
    });
    const sales = await buyer.GET("/api/v1/flash-sales");
    assert.ok(sales.items?.some((s) => s.id === sale.id));
    const tok = await eventually(
      () => buyer.GET("/api/v1/flash-sales/{id}/token", { path: { id: sale.id } }).catch((e: KaidianError) => e),
      (v) => !(v instanceof KaidianError),
    );
    if (tok instanceof KaidianError) throw tok;
    const claim = await buyer.POST("/api/v1/flash-sales/{id}/claim", { path: { id: sale.id }, body: { token: tok.token } });
    assert.equal(claim.status, "held");
    const order = await buyer.POST("/api/v1/orders", {
      body: { from_cart: false, flash_claim_id: claim.id, address, buyer_note: "" },
      idempotencyKey: newIdempotencyKey(),
    });
    assert.equal(order.goods_amount, 990);
    await pay(order.id);
  });
});
