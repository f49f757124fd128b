// Cart: the lines at the prices checkout charges; change a quantity or remove a line; check out
// the selected lines.
import { api, showError, yuan, type Schemas } from "../../utils/api";
import { ensureLogin } from "../../utils/wechat";

type Line = Schemas["order.CartLine"] & { priceText: string };

Page({
  data: { lines: [] as Line[], totalText: "0.00", empty: true },

  onShow() {
    this.load();
  },

  async load() {
    try {
      await ensureLogin();
      this.show(await api.GET("/api/v1/cart"));
    } catch (e) {
      showError(e);
    }
  },

  show(cart: Schemas["order.Cart"]) {
    const lines = (cart.lines ?? []).map((l) => ({ ...l, priceText: yuan(l.unit_price) }));
    this.setData({ lines, totalText: yuan(cart.selected_total), empty: lines.length === 0 });
  },

  // change sends PUT: wx.request cannot send PATCH, and the server takes
  // either for a line's quantity.
  async change(e: WechatMiniprogram.TouchEvent) {
    const { id, quantity } = e.currentTarget.dataset as { id: number; quantity: number };
    try {
      this.show(await api.PUT("/api/v1/cart/items/{id}", { path: { id }, body: { quantity, selected: true } }));
    } catch (err) {
      showError(err);
    }
  },

  async remove(e: WechatMiniprogram.TouchEvent) {
    try {
      this.show(await api.DELETE("/api/v1/cart/items/{id}", { path: { id: e.currentTarget.dataset.id as number } }));
    } catch (err) {
      showError(err);
    }
  },

  checkout() {
    wx.navigateTo({ url: "/pages/checkout/index?from_cart=1" });
  },
});
