// The wx.request transport: the same Client inside a mini program.
//
//   import { createClient } from "./kaidian/index";
//   import { wxTransport } from "./kaidian/wx";
//   const api = createClient({ baseUrl, appid, transport: wxTransport(wx) });
//
// The request's domain must be in the mini program's request domains (or
// "do not verify domains" ticked in WeChat DevTools for a local demo).
import { KaidianError, type Transport } from "./client.js";

/** The part of wx.request this transport uses (miniprogram-api-typings' wx fits it). */
export interface WxRequestOption {
  url: string;
  method?: "GET" | "POST" | "PUT" | "DELETE" | "OPTIONS" | "HEAD" | "TRACE" | "CONNECT";
  header?: Record<string, string>;
  data?: string;
  dataType?: string;
  responseType?: "text" | "arraybuffer";
  timeout?: number;
  success?: (res: { statusCode: number; header: Record<string, string>; data: unknown }) => void;
  fail?: (err: { errMsg: string }) => void;
}

export interface WxLike {
  request(option: WxRequestOption & Record<string, any>): unknown;
}

/**
 * A transport over wx.request. wx.request offers no PATCH: such a call is
 * refused here (code method_not_supported) rather than sent as something
 * else the server would not understand.
 */
export function wxTransport(wxApi: WxLike, opts: { timeout?: number } = {}): Transport {
  return (req) =>
    new Promise((resolve, reject) => {
      if (req.method === "PATCH") {
        reject(new KaidianError(0, "method_not_supported", "wx.request cannot send PATCH"));
        return;
      }
      wxApi.request({
        url: req.url,
        method: req.method as WxRequestOption["method"],
        header: req.headers,
        data: req.body,
        dataType: "text", // anything but "json": the body comes back as text, parsed by the client
        responseType: "text",
        timeout: opts.timeout,
        success: (res) => {
          const lower: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.header ?? {})) lower[k.toLowerCase()] = String(v);
          const text = typeof res.data === "string" ? res.data : res.data == null ? "" : JSON.stringify(res.data);
          resolve({ status: res.statusCode, header: (name) => lower[name.toLowerCase()], text });
        },
        fail: (err) => reject(new KaidianError(0, "network_error", err.errMsg)),
      });
    });
}
