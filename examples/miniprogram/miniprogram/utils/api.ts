// The typed kaidian client over wx.request (clients/ts, copied into
// ../kaidian by npm install), with the buyer's session kept in storage.
import { createClient, wxTransport, type components } from "../kaidian/index";
import { config } from "../config";

export type Schemas = components["schemas"];

const TOKEN_KEY = "kaidian_token";

export const api = createClient({
  baseUrl: config.baseUrl,
  appid: config.appid,
  token: () => wx.getStorageSync<string>(TOKEN_KEY) || undefined,
  transport: wxTransport(wx, { timeout: 15000 }),
  onError: (e) => {
    if (e.status === 401) wx.removeStorageSync(TOKEN_KEY); // log in again next time
  },
});

export function setToken(token: string | null): void {
  if (token) wx.setStorageSync(TOKEN_KEY, token);
  else wx.removeStorageSync(TOKEN_KEY);
}

export function hasToken(): boolean {
  return !!wx.getStorageSync<string>(TOKEN_KEY);
}

/** ¥ from fen: 19900 → "199.00". */
export function yuan(fen: number): string {
  return (fen / 100).toFixed(2);
}

/** Shows an error's message (the server's, or the client's) in a toast. */
export function showError(e: unknown): void {
  const msg = e && typeof e === "object" && "message" in e ? String((e as { message: unknown }).message) : String(e);
  wx.showToast({ title: msg.slice(0, 40) || "出错了", icon: "none" });
}
