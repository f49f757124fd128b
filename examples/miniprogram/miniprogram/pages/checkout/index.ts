// Checkout: the address, the server's price (preview, with the best coupon of
// the wallet), then on one tap: the subscription dialog for the templates the
// server names, the order (one Idempotency-Key for all retries of this
// checkout), its wx.requestPayment parameters and the payment.
import { api, showError, yuan, type Schemas } from "../../utils/api";
import { askSubscriptions, ensureLogin, nextTemplates, requestPayment } from "../../utils/wechat";
import { newIdempotencyKey } from "../../kaidian/index";
import { config } from "../../config";

type Address = Schemas["order.Address"];

// Against the demo, DevTools' wx.chooseAddress may offer nothing: this one is used then.
const demoAddress: Address = { name: "张三", phone: "13800138000", province: "浙江省", city: "杭州市", district: "西湖区", detail: "文三路 1 号" };

Page({
  data: {
    fromCart: false,
    items: [] as Schemas["order.Item.input"][],
    address: null as Address | null,
    memberCouponId: 0,
    preview: null as Schemas["order.Preview"] | null,
    text: { goods: "", shipping: "", discount: "", total: "" },
    templateIds: [] as string[],
    idempotencyKey: "",
    busy: false,
  },

  async onLoad(query: Record<string, string | undefined>) {
    const items = query.sku ? [{ sku_id: Number(query.sku), quantity: Number(query.quantity ?? 1) }] : [];
    this.setData({ fromCart: !!query.from_cart, items, idempotencyKey: newIdempotencyKey(), address: config.sandbox ? demoAddress : null });
    try {
      await ensureLogin();
      this.setData({ templateIds: await nextTemplates("order_paid") });
      await this.price();
    } catch (e) {
      showError(e);
    }
  },

  chooseAddress() {
    wx.chooseAddress({
      success: (a) => {
        this.setData({
          address: { name: a.userName, phone: a.telNumber, province: a.provinceName, city: a.cityName, district: a.countyName, detail: a.detailInfo, postal_code: a.postalCode },
        });
        this.price().catch(showError);
      },
    });
  },

  async price() {
    const body = {
      from_cart: this.data.fromCart,
      items: this.data.fromCart ? null : this.data.items,
      address: this.data.address,
      member_coupon_id: this.data.memberCouponId || undefined,
    };
    let preview = await api.POST("/api/v1/orders/preview", { body });
    if (preview.suggested_coupon && preview.suggested_coupon.member_coupon_id !== this.data.memberCouponId) {
      this.setData({ memberCouponId: preview.suggested_coupon.member_coupon_id });
      preview = await api.POST("/api/v1/orders/preview", { body: { ...body, member_coupon_id: this.data.memberCouponId } });
    }
    const b = preview.breakdown;
    this.setData({
      preview,
      text: {
        goods: yuan(b.goods_amount),
        shipping: yuan(b.shipping_fee - b.shipping_discount),
        discount: yuan(b.promo_discount + b.coupon_discount + b.points_discount),
        total: yuan(preview.total),
      },
    });
  },

  submit() {
    if (this.data.busy || !this.data.address) return;
    this.setData({ busy: true });
    // First, still inside the tap: the subscription dialog.
    askSubscriptions(this.data.templateIds)
      .catch(() => undefined) // a refusal or a failure does not stop the purchase
      .then(() => this.placeAndPay())
      .catch(showError)
      .then(() => this.setData({ busy: false }));
  },

  async placeAndPay() {
    const address = this.data.address;
    if (!address) return;
    const order = await api.POST("/api/v1/orders", {
      body: {
        from_cart: this.data.fromCart,
        items: this.data.fromCart ? null : this.data.items,
        address,
        buyer_note: "",
        member_coupon_id: this.data.memberCouponId || undefined,
      },
      idempotencyKey: this.data.idempotencyKey, // a retry of this checkout answers the same order
    });
    const params = await api.POST("/api/v1/orders/{id}/pay", { path: { id: order.id } });
    await requestPayment(params);
    wx.showToast({ title: "支付成功" });
    wx.switchTab({ url: "/pages/orders/index" });
  },
});
