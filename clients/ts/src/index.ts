export * from "./client.js";
export { wxTransport, type WxLike, type WxRequestOption } from "./wx.js";
