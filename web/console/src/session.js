import { reactive } from 'vue'

// session is who is logged in and what they may do (from /auth/me), and the
// shop an operator acts on. It holds no secret: the token is an HttpOnly cookie.
export const session = reactive({
  me: null, // {account, shop_id, permissions}
  shopId: Number(localStorage.getItem('kaidian.shop')) || 0,
  loaded: false,
  onUnauthenticated: () => {},
  onStepUp: null, // asks for a code when a sensitive action needs one (router.js)
  can(p) {
    return !!this.me && this.me.permissions.includes(p)
  },
  get isOperator() {
    return !!this.me && this.me.account.role === 'operator'
  },
  // An agency login acts on the shops granted to it, one at a time.
  get isAgency() {
    return !!this.me && this.me.account.role === 'agency'
  },
  // Operators and agencies choose the shop they act on (X-Shop-Id).
  get picksShop() {
    return this.isOperator || this.isAgency
  },
  setShop(id) {
    this.shopId = id || 0
    if (id) localStorage.setItem('kaidian.shop', String(id))
    else localStorage.removeItem('kaidian.shop')
  },
})

export const money = (fen) => (fen === null || fen === undefined ? '' : '¥' + (fen / 100).toFixed(2))
export const toFen = (yuan) => Math.round(Number(yuan || 0) * 100)
// Times show in China time, the shops' business time, whatever the browser's zone.
export const dateTime = (s) => (s ? new Date(s).toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }) : '')

// Date pickers hold China wall-clock time as 'YYYY-MM-DD HH:mm:ss' (their
// value-format), whatever the browser's zone; chinaISO turns that into the
// instant the API takes, chinaInput an instant into a picker's value.
export const pickerFormat = 'YYYY-MM-DD HH:mm:ss'
export const chinaISO = (s) => (s ? new Date(s.replace(' ', 'T') + '+08:00').toISOString() : null)
export function chinaInput(d) {
  const c = new Date(new Date(d).getTime() + 8 * 3600 * 1000).toISOString()
  return c.slice(0, 10) + ' ' + c.slice(11, 19)
}
// dateRange is a [start, end] picker value from now + fromMinutes, lasting minutes.
export function dateRange(fromMinutes, minutes) {
  const start = Date.now() + fromMinutes * 60000
  return [chinaInput(start), chinaInput(start + minutes * 60000)]
}
