// My orders, newest first: pay an unpaid one, ask for a refund of a paid one.
import { api, showError, yuan, type Schemas } from "../../utils/api";
import { ensureLogin, requestPayment } from "../../utils/wechat";

const statusText: Record<Schemas["order.BuyerOrder"]["status"], string> = {
  pending_payment: "待付款",
  paid: "待发货",
  shipped: "已发货",
  completed: "已完成",
  cancelled: "已取消",
  refunded: "已退款",
};

type Row = Schemas["order.BuyerOrder"] & { statusText: string; totalText: string };

Page({
  data: { orders: [] as Row[] },

  onShow() {
    this.load();
  },

  async load() {
    try {
      await ensureLogin();
      const page = await api.GET("/api/v1/orders");
      this.setData({ orders: (page.items ?? []).map((o) => ({ ...o, statusText: statusText[o.status], totalText: yuan(o.total_amount) })) });
    } catch (e) {
      showError(e);
    }
  },

  async pay(e: WechatMiniprogram.TouchEvent) {
    try {
      const params = await api.POST("/api/v1/orders/{id}/pay", { path: { id: e.currentTarget.dataset.id as number } });
      await requestPayment(params);
      await this.load();
    } catch (err) {
      showError(err);
    }
  },

  async refund(e: WechatMiniprogram.TouchEvent) {
    const order = this.data.orders.find((o) => o.id === e.currentTarget.dataset.id);
    if (!order) return;
    try {
      await api.POST("/api/v1/orders/{id}/aftersales", {
        path: { id: order.id },
        body: { type: "refund_only", reason_code: "changed_mind", reason: "不想要了", amount: order.paid_amount - order.refunded_amount, lines: null, photos: null },
      });
      wx.showToast({ title: "已申请退款" });
      await this.load();
    } catch (err) {
      showError(err);
    }
  },
});
