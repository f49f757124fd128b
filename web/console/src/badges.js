import { reactive } from 'vue'
import { get } from './api.js'

// badges are the menu's counts of what needs staff (refunds needing
// attention, pending approvals, failed shipping reports): menu path → text
// ('' = nothing). Each costs one request: the first page of up to 100 of its
// list, shown as "100+" when there are more.
export const badges = reactive({})
const sources = {} // menu path → list path

// watchBadges takes the menu items the role sees and counts theirs.
export function watchBadges(items) {
  for (const k of Object.keys(sources)) delete sources[k]
  for (const k of Object.keys(badges)) delete badges[k]
  for (const it of items) if (it.badge) sources[it.path] = it.badge
  return Promise.all(Object.keys(sources).map(refreshBadge))
}

// refreshBadge counts one menu item's list again (after a screen changed it).
export async function refreshBadge(menuPath) {
  const src = sources[menuPath]
  if (!src) return
  try {
    const page = await get(src + (src.includes('?') ? '&' : '?') + 'limit=100', { quiet401: true })
    const n = (page && page.items && page.items.length) || 0
    badges[menuPath] = n ? String(n) + (page.next_cursor ? '+' : '') : ''
  } catch {
    badges[menuPath] = '' // a badge is a hint: its screen shows the error
  }
}
