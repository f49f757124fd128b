// Profile: who I am, my points and coupons; log out.
import { api, setToken, showError, type Schemas } from "../../utils/api";
import { ensureLogin } from "../../utils/wechat";

Page({
  data: { me: null as Schemas["member.Member"] | null, points: 0, coupons: 0 },

  onShow() {
    this.load();
  },

  async load() {
    try {
      await ensureLogin();
      const [me, points, coupons] = await Promise.all([api.GET("/api/v1/me"), api.GET("/api/v1/me/points"), api.GET("/api/v1/me/coupons")]);
      this.setData({ me, points: points.balance, coupons: (coupons.items ?? []).filter((c) => c.status === "unused").length });
    } catch (e) {
      showError(e);
    }
  },

  async logout() {
    try {
      await api.POST("/api/v1/auth/logout");
    } catch (e) {
      // the session may be gone already
    }
    setToken(null);
    this.setData({ me: null });
  },
});
