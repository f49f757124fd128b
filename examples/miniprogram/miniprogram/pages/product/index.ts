// Product: images, title, the SKU picker (one spec value per dimension), add
// to cart or buy now.
import { api, showError, yuan, type Schemas } from "../../utils/api";
import { ensureLogin } from "../../utils/wechat";

Page({
  data: {
    product: null as Schemas["catalog.Product"] | null,
    chosen: [] as string[], // the chosen value of each spec dimension
    sku: null as Schemas["catalog.SKU"] | null,
    priceText: "",
    quantity: 1,
  },

  async onLoad(query: Record<string, string | undefined>) {
    try {
      const product = await api.GET("/api/v1/products/{id}", { path: { id: query.id ?? "" } });
      const first = (product.skus ?? []).find((s) => s.stock > 0) ?? null;
      this.setData({ product, chosen: first?.spec_values ?? [], priceText: yuan(product.price_min) });
      this.pick();
      wx.setNavigationBarTitle({ title: product.title });
    } catch (e) {
      showError(e);
    }
  },

  choose(e: WechatMiniprogram.TouchEvent) {
    const { dim, value } = e.currentTarget.dataset as { dim: number; value: string };
    const chosen = this.data.chosen.slice();
    chosen[dim] = value;
    this.setData({ chosen });
    this.pick();
  },

  pick() {
    const p = this.data.product;
    if (!p) return;
    const sku = (p.skus ?? []).find((s) => (s.spec_values ?? []).join("/") === this.data.chosen.join("/")) ?? null;
    this.setData({ sku, priceText: yuan(sku ? sku.price : p.price_min) });
  },

  async addToCart() {
    const sku = this.data.sku;
    if (!sku) return;
    try {
      await ensureLogin();
      await api.POST("/api/v1/cart/items", { body: { sku_id: sku.id, quantity: this.data.quantity } });
      wx.showToast({ title: "已加入购物车" });
    } catch (e) {
      showError(e);
    }
  },

  buyNow() {
    const sku = this.data.sku;
    if (sku) wx.navigateTo({ url: `/pages/checkout/index?sku=${sku.id}&quantity=${this.data.quantity}` });
  },
});
