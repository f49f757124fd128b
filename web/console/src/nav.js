// The navigation: groups of screens, each shown only to roles whose
// permissions include its perm. A later feature (promotions, members,
// content, moderation, messages, analytics, tickets) adds its group or its
// items here and its screens under views/; the menu and the router both
// read this list, so nothing else changes. An item with a badge shows the
// count of its list (badges.js): what waits for staff.
export const nav = [
  { key: 'overview', items: [{ path: '/dashboard', title: 'nav.dashboard', perm: 'orders.read', shop: true, view: () => import('./views/Dashboard.vue') }] },
  {
    key: 'catalog',
    items: [
      { path: '/products', title: 'nav.products', perm: 'catalog.read', shop: true, view: () => import('./views/Products.vue') },
      { path: '/categories', title: 'nav.categories', perm: 'catalog.read', shop: true, view: () => import('./views/Categories.vue') },
      { path: '/import', title: 'nav.import', perm: 'catalog.write', shop: true, view: () => import('./views/Import.vue') },
      { path: '/freight', title: 'nav.freight', perm: 'catalog.read', shop: true, view: () => import('./views/FreightTemplates.vue') },
      { path: '/recommendations', title: 'nav.recommendations', perm: 'catalog.read', shop: true, view: () => import('./views/Recommendations.vue') },
    ],
  },
  {
    key: 'orders',
    items: [
      { path: '/orders', title: 'nav.orderList', perm: 'orders.read', shop: true, view: () => import('./views/Orders.vue') },
      { path: '/aftersales', title: 'nav.aftersales', perm: 'orders.read', shop: true, view: () => import('./views/Aftersales.vue') },
      { path: '/wechat-shipping', title: 'nav.wechatShipping', perm: 'orders.read', shop: true, badge: '/wechat-shipping/failed', view: () => import('./views/WechatShipping.vue') },
    ],
  },
  {
    key: 'finance',
    items: [
      { path: '/refunds', title: 'nav.refunds', perm: 'orders.read', shop: true, view: () => import('./views/Refunds.vue') },
      { path: '/refund-attention', title: 'nav.refundAttention', perm: 'orders.read', shop: true, badge: '/refunds/attention', view: () => import('./views/RefundAttention.vue') },
      { path: '/refund-approvals', title: 'nav.refundApprovals', perm: 'orders.read', shop: true, badge: '/refund-requests?status=pending', view: () => import('./views/RefundApprovals.vue') },
      { path: '/reconciliations', title: 'nav.reconciliations', perm: 'orders.read', shop: true, view: () => import('./views/Reconciliations.vue') },
    ],
  },
  {
    key: 'promotions',
    items: [
      { path: '/flash-sales', title: 'nav.flashSales', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/FlashSales.vue') },
      { path: '/group-deals', title: 'nav.groupDeals', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/GroupDeals.vue') },
      { path: '/coupons', title: 'nav.coupons', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/Coupons.vue') },
      { path: '/timed-discounts', title: 'nav.timedDiscounts', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/TimedDiscounts.vue') },
      { path: '/distribution', title: 'nav.distribution', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/Distribution.vue') },
    ],
  },
  {
    key: 'members',
    items: [
      { path: '/members', title: 'nav.memberList', perm: 'members.read', shop: true, view: () => import('./views/members/Members.vue') },
      { path: '/member-tags', title: 'nav.memberTags', perm: 'members.read', shop: true, view: () => import('./views/members/Tags.vue') },
      { path: '/segments', title: 'nav.segments', perm: 'members.read', shop: true, view: () => import('./views/members/Segments.vue') },
    ],
  },
  {
    key: 'loyalty',
    items: [
      { path: '/points', title: 'nav.points', perm: 'members.read', shop: true, view: () => import('./views/loyalty/Points.vue') },
      { path: '/levels', title: 'nav.levels', perm: 'members.read', shop: true, view: () => import('./views/loyalty/Levels.vue') },
      { path: '/checkin', title: 'nav.checkin', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/Checkin.vue') },
      { path: '/achievements', title: 'nav.achievements', perm: 'promotions.read', shop: true, view: () => import('./views/loyalty/Achievements.vue') },
    ],
  },
  {
    key: 'content',
    items: [
      { path: '/content/courses', title: 'nav.contentCourses', perm: 'content.read', shop: true, view: () => import('./views/content/Courses.vue') },
      { path: '/content/bundles', title: 'nav.contentBundles', perm: 'content.read', shop: true, view: () => import('./views/content/Bundles.vue') },
      { path: '/content/entitlements', title: 'nav.contentEntitlements', perm: 'content.read', shop: true, view: () => import('./views/content/Entitlements.vue') },
      { path: '/content/sales', title: 'nav.contentSales', perm: 'orders.read', shop: true, view: () => import('./views/content/Sales.vue') },
      { path: '/camps', title: 'nav.camps', perm: 'camp.read', shop: true, view: () => import('./views/content/Camps.vue') },
    ],
  },
  {
    key: 'moderation',
    items: [
      { path: '/moderation/queue', title: 'nav.modQueue', perm: 'moderation.read', shop: true, view: () => import('./views/moderation/Queue.vue') },
      { path: '/moderation/rules', title: 'nav.modRules', perm: 'moderation.read', shop: true, view: () => import('./views/moderation/Rules.vue') },
      { path: '/moderation/complaints', title: 'nav.modComplaints', perm: 'moderation.read', shop: true, view: () => import('./views/moderation/Complaints.vue') },
      { path: '/moderation/bans', title: 'nav.modBans', perm: 'moderation.read', shop: true, view: () => import('./views/moderation/Bans.vue') },
      { path: '/moderation/decisions', title: 'nav.modDecisions', perm: 'moderation.read', shop: true, view: () => import('./views/moderation/Decisions.vue') },
    ],
  },
  {
    key: 'teaching',
    items: [
      { path: '/content/questions', title: 'nav.questions', perm: 'content.teach', shop: true, view: () => import('./views/content/Questions.vue') },
    ],
  },
  {
    key: 'messages',
    items: [
      { path: '/messages/templates', title: 'nav.msgTemplates', perm: 'shop.read', shop: true, view: () => import('./views/messages/Templates.vue') },
      { path: '/messages/sms', title: 'nav.msgSms', perm: 'shop.read', shop: true, view: () => import('./views/messages/SmsSettings.vue') },
      { path: '/messages/campaigns', title: 'nav.msgCampaigns', perm: 'promotions.read', shop: true, view: () => import('./views/messages/Campaigns.vue') },
      { path: '/messages/dead-letters', title: 'nav.msgDeadLetters', perm: 'shop.read', shop: true, badge: '/messages/dead-letters', view: () => import('./views/messages/DeadLetters.vue') },
    ],
  },
  {
    key: 'shop',
    items: [
      { path: '/settings', title: 'nav.settings', perm: 'shop.settings', shop: true, view: () => import('./views/ShopSettings.vue') },
      { path: '/staff', title: 'nav.staff', perm: 'staff.manage', shop: true, view: () => import('./views/Staff.vue') },
      { path: '/tickets', title: 'nav.tickets', perm: 'tickets', shop: true, view: () => import('./views/Tickets.vue') },
      { path: '/costs', title: 'nav.costs', perm: 'costs', shop: true, view: () => import('./views/Costs.vue') },
      { path: '/privacy', title: 'nav.privacy', perm: 'privacy', shop: true, view: () => import('./views/Privacy.vue') },
      { path: '/audit-log', title: 'nav.auditLog', perm: 'audit.read', shop: true, view: () => import('./views/AuditLog.vue') },
    ],
  },
  { key: 'platform', items: [{ path: '/shops', title: 'nav.shops', perm: 'shops.manage', view: () => import('./views/Shops.vue') },
    { path: '/backups', title: 'nav.backups', perm: 'shops.manage', view: () => import('./views/Backups.vue') },
    { path: '/platform-audit', title: 'nav.platformAudit', perm: 'shops.manage', view: () => import('./views/AuditLog.vue') }] },
]

// Screens reached from others rather than from the menu.
export const pages = [
  { path: '/products/new', perm: 'catalog.write', shop: true, view: () => import('./views/ProductEdit.vue') },
  { path: '/products/:id', perm: 'catalog.read', shop: true, view: () => import('./views/ProductEdit.vue') },
  { path: '/orders/:id', perm: 'orders.read', shop: true, view: () => import('./views/OrderDetail.vue') },
  { path: '/members/:id', perm: 'members.read', shop: true, view: () => import('./views/members/MemberDetail.vue') },
  { path: '/flash-sales/:id', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/FlashSaleDetail.vue') },
  { path: '/group-deals/:id', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/GroupDealDetail.vue') },
  { path: '/groups/:id', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/GroupDetail.vue') },
  { path: '/coupons/:id', perm: 'promotions.read', shop: true, view: () => import('./views/promotions/CouponDetail.vue') },
  { path: '/shops/new', perm: 'shops.manage', view: () => import('./views/ShopEdit.vue') },
  { path: '/shops/:id', perm: 'shops.manage', view: () => import('./views/ShopEdit.vue') },
  { path: '/password', view: () => import('./views/Password.vue') },
  { path: '/security', view: () => import('./views/Security.vue') },
]
