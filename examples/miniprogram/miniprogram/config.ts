// Where the mini program finds kaidian. For `kaidian demo` on this machine
// keep the defaults (the demo listens on 127.0.0.1:8080; change baseUrl if
// you started it with another --addr) and tick "do not verify request
// domains" in WeChat DevTools (project.config.json sets urlCheck: false).
export const config = {
  baseUrl: "http://127.0.0.1:8080",
  /** The shop's appid, sent as X-Appid: the demo shop's. */
  appid: "wxd0c0ffee00000001",
  /**
   * true against `kaidian demo`: wx.login, wx.requestPayment and the
   * subscription dialog are played by the demo's WeChat sandboxes (their
   * codes and payments are not real WeChat's). false against a real shop.
   */
  sandbox: true,
  /** The sandbox buyer (another openid is another buyer). */
  sandboxOpenid: "miniprogram-buyer-1",
};
