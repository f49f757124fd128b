// wx.login, wx.requestSubscribeMessage and wx.requestPayment, or, against
// `kaidian demo` (config.sandbox), the demo's sandboxes that play them: the
// same controls the README's walkthrough uses.
import { config } from "../config";
import { api, setToken, hasToken, type Schemas } from "./api";

function sandboxPost<T>(path: string, body: object): Promise<T> {
  return new Promise((resolve, reject) => {
    wx.request({
      url: config.baseUrl + path,
      method: "POST",
      header: { "Content-Type": "application/json" },
      data: body,
      success: (res) => (res.statusCode < 300 ? resolve(res.data as T) : reject(new Error(`sandbox ${path}: ${res.statusCode}`))),
      fail: (err) => reject(new Error(err.errMsg)),
    });
  });
}

/** A wx.login code. */
function loginCode(): Promise<string> {
  if (config.sandbox) {
    return sandboxPost<{ code: string }>("/wechat/sandbox/login-code", { appid: config.appid, openid: config.sandboxOpenid }).then((r) => r.code);
  }
  return new Promise((resolve, reject) => wx.login({ success: (r) => resolve(r.code), fail: (e) => reject(new Error(e.errMsg)) }));
}

let loggingIn: Promise<void> | null = null;

/** Logs the buyer in (once, however many pages ask at the same time; again after the session ends). */
export function ensureLogin(): Promise<void> {
  if (hasToken()) return Promise.resolve();
  if (!loggingIn) {
    loggingIn = (async () => {
      const res = await api.POST("/api/v1/auth/login", { body: { code: await loginCode() } });
      setToken(res.token);
    })().finally(() => {
      loggingIn = null;
    });
  }
  return loggingIn;
}

/** The templates the server wants asked for before an action of kind (at most 3). */
export async function nextTemplates(kind: "order_paid" | "order_shipped" | "order_refunded"): Promise<string[]> {
  const next = await api.GET("/api/v1/me/subscriptions/next", { query: { kind } });
  return next.template_ids ?? [];
}

/**
 * Asks the buyer for the subscription messages ids (wx.requestSubscribeMessage),
 * then reports the answers so the server knows what it may send. Call it first
 * thing in a tap handler: WeChat shows the dialog only for a tap.
 */
export async function askSubscriptions(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const results: Record<string, string> = await new Promise((resolve) => {
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: (res) => {
        const answers = res as unknown as Record<string, string>;
        resolve(Object.fromEntries(ids.map((id) => [id, String(answers[id] ?? "reject")])));
      },
      // DevTools cannot show the demo's templates: the sandbox plays "allow" below.
      fail: () => resolve(Object.fromEntries(ids.map((id) => [id, config.sandbox ? "accept" : "reject"]))),
    });
  });
  if (config.sandbox) {
    for (const [id, answer] of Object.entries(results)) {
      if (answer === "accept") {
        await sandboxPost("/wechat/sandbox/subscribe-accept", { appid: config.appid, openid: config.sandboxOpenid, template_id: id });
      }
    }
  }
  await api.POST("/api/v1/me/subscriptions", { body: { results } });
}

/** Pays with the parameters of POST /api/v1/orders/{id}/pay. */
export function requestPayment(params: Schemas["wechatpay.PaymentParams"]): Promise<void> {
  if (config.sandbox) {
    return sandboxPost<{ delivered: boolean }>("/wechatpay/sandbox/pay/request-payment", { appid: config.appid, params }).then(() => undefined);
  }
  return new Promise((resolve, reject) =>
    wx.requestPayment({
      timeStamp: params.timeStamp,
      nonceStr: params.nonceStr,
      package: params.package,
      signType: "RSA",
      paySign: params.paySign,
      success: () => resolve(),
      fail: (e) => reject(new Error(e.errMsg)),
    }),
  );
}
