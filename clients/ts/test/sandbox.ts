// The demo's sandbox controls (not part of the API, so not in the client):
// what WeChat and WeChat Pay would do on the phone. The routes are those of
// internal/demo's walkthrough (demo.SandboxControl, demo.PaySandboxMount).
export const DEMO_APPID = "wxd0c0ffee00000001";
export const DEMO_OWNER = { username: "owner", password: "kaidian-demo" };

async function control<T>(base: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(base + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** A wx.login code for openid (a new openid is a new buyer). */
export function loginCode(base: string, openid: string): Promise<{ code: string; openid: string }> {
  return control(base, "/wechat/sandbox/login-code", { appid: DEMO_APPID, openid });
}

/** Pays as wx.requestPayment would with the parameters of POST /api/v1/orders/{id}/pay. */
export function requestPayment(base: string, params: unknown): Promise<{ delivered: boolean }> {
  return control(base, "/wechatpay/sandbox/pay/request-payment", { appid: DEMO_APPID, params });
}

/** Plays the buyer's "allow" tap in wx.requestSubscribeMessage. */
export function acceptSubscription(base: string, openid: string, templateId: string): Promise<{ quota: number }> {
  return control(base, "/wechat/sandbox/subscribe-accept", { appid: DEMO_APPID, openid, template_id: templateId });
}

/** Polls fn until it returns a value check accepts (at most timeoutMs). */
export async function eventually<T>(fn: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (check(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}
