import { createRouter, createWebHistory } from 'vue-router'
import { nav, pages } from './nav.js'
import { session } from './session.js'
import { get } from './api.js'
import { askCode } from './util.js'
import Login from './views/Login.vue'

const screens = [...nav.flatMap((g) => g.items), ...pages].map((s) => ({
  path: s.path.slice(1),
  component: s.view,
  meta: { perm: s.perm, shop: !!s.shop, title: s.title },
}))

export const router = createRouter({
  history: createWebHistory('/admin/'),
  routes: [
    { path: '/login', component: Login, meta: { public: true } },
    // The layout (menu, header) loads with the first screen after login, not
    // with the login screen.
    { path: '/', component: () => import('./layout/Layout.vue'), children: [{ path: '', redirect: () => firstScreen() }, ...screens] },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

// firstScreen is the first menu screen the role may open.
export function firstScreen() {
  if (session.me && session.me.totp_enrolment_required) return '/security'
  for (const g of nav) for (const it of g.items) if (allowed(it)) return it.path
  return '/password'
}

export function allowed(it) {
  if (it.perm && !session.can(it.perm)) return false
  return true
}

export async function loadMe() {
  try {
    session.me = await get('/auth/me', { quiet401: true, noShop: true })
    // Operators and agencies choose a shop; staff always act on their own.
    if (session.me.account.role === 'agency') await loadAgencyShop()
    else if (session.me.account.role !== 'operator') session.setShop(0)
  } catch (e) {
    session.me = null
    if (e.status !== 401) throw e
  }
  session.loaded = true
  return session.me
}

// loadAgencyShop keeps the agency's chosen shop if it is still granted
// (else takes the first granted one) and loads the permissions of its role
// there.
async function loadAgencyShop() {
  const shops = (await get('/me/shops', { noShop: true })).items || []
  if (!shops.some((s) => s.shop_id === session.shopId)) session.setShop(shops.length ? shops[0].shop_id : 0)
  if (session.shopId) session.me = await get('/auth/me', { quiet401: true })
}

router.beforeEach(async (to) => {
  if (!session.loaded) await loadMe()
  if (to.meta.public) return session.me ? '/' : true
  if (!session.me) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  // Until a required two-step verification is set up, only its screen works.
  if (session.me.totp_enrolment_required && to.path !== '/security') return '/security'
  if (to.meta.perm && !session.can(to.meta.perm)) return firstScreen()
  if (to.meta.shop && session.isOperator && !session.shopId) return '/shops'
  if (to.meta.shop && session.isAgency && !session.shopId) return '/password'
  return true
})

session.onStepUp = askCode

session.onUnauthenticated = () => {
  session.me = null
  if (router.currentRoute.value.path !== '/login') router.push('/login')
}
