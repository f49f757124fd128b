// Home: the shop's products, newest first, with keyword search and paging.
import { api, showError, yuan, type Schemas } from "../../utils/api";

type Item = Schemas["catalog.Summary"] & { priceText: string };

Page({
  data: { q: "", items: [] as Item[], cursor: "", loading: false },

  onLoad() {
    this.load(true);
  },

  onPullDownRefresh() {
    this.load(true).then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    if (this.data.cursor) this.load(false);
  },

  onInput(e: WechatMiniprogram.Input) {
    this.setData({ q: e.detail.value });
  },

  onSearch() {
    this.load(true);
  },

  async load(fresh: boolean) {
    if (this.data.loading) return;
    this.setData({ loading: true });
    try {
      const page = await api.GET("/api/v1/products", {
        query: { q: this.data.q || undefined, limit: 20, cursor: fresh ? undefined : this.data.cursor },
      });
      const items = (page.items ?? []).map((s) => ({ ...s, priceText: yuan(s.price_min) }));
      this.setData({ items: fresh ? items : this.data.items.concat(items), cursor: page.next_cursor ?? "" });
    } catch (e) {
      showError(e);
    } finally {
      this.setData({ loading: false });
    }
  },

  open(e: WechatMiniprogram.TouchEvent) {
    wx.navigateTo({ url: `/pages/product/index?id=${e.currentTarget.dataset.id}` });
  },
});
