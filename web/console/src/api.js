// The console's only way to the server: the admin API. The session is the
// HttpOnly cookie the login set; state-changing requests echo the CSRF
// cookie in X-CSRF-Token; operators name the shop they act on in X-Shop-Id.
import { session } from './session.js'

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`)
    this.status = status
    this.code = (body && body.code) || 'http_' + status
    this.fields = (body && body.fields) || {}
    this.challenge = (body && body.challenge) || ''
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return decodeURIComponent(v.join('='))
  }
  return ''
}

export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = cookie('kaidian_csrf')
  const shop = opts.shopId || session.shopId
  if (shop && !opts.noShop) headers['X-Shop-Id'] = String(shop)
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey
  let payload
  if (body !== undefined) {
    if (opts.form) {
      payload = body // FormData: the browser sets multipart/form-data with its boundary
    } else if (opts.contentType) {
      headers['Content-Type'] = opts.contentType
      payload = body
    } else {
      headers['Content-Type'] = 'application/json'
      payload = JSON.stringify(body)
    }
  }
  const res = await fetch('/admin/api/v1' + path, { method, headers, body: payload, credentials: 'same-origin' })
  if (res.status === 204) return null
  if (opts.text && res.ok) return res.text()
  let data = null
  try { data = await res.json() } catch { data = null }
  if (!res.ok) {
    const err = new ApiError(res.status, data)
    if (res.status === 401 && !opts.quiet401) session.onUnauthenticated()
    // A sensitive action asks for a code from the authenticator app: ask,
    // verify it on the session (good for 5 minutes) and send the request again.
    if (err.code === 'second_factor_required' && res.status === 403 && !opts.steppedUp && session.onStepUp) {
      const code = await session.onStepUp()
      if (code) {
        await api('POST', '/auth/totp/verify', { code }, { steppedUp: true })
        return api(method, path, body, { ...opts, steppedUp: true })
      }
    }
    throw err
  }
  return data
}

// download fetches a file answer (an XLSX export) and saves it under the
// name the server gave in Content-Disposition (its UTF-8 filename*).
export async function download(path, fallbackName, steppedUp = false) {
  const headers = {}
  if (session.shopId) headers['X-Shop-Id'] = String(session.shopId)
  const res = await fetch('/admin/api/v1' + path, { headers, credentials: 'same-origin' })
  if (!res.ok) {
    let data = null
    try { data = await res.json() } catch { data = null }
    if (res.status === 401) session.onUnauthenticated()
    const err = new ApiError(res.status, data)
    // Exports of personal data ask for a code, as api() does.
    if (err.code === 'second_factor_required' && !steppedUp && session.onStepUp) {
      const code = await session.onStepUp()
      if (code) {
        await api('POST', '/auth/totp/verify', { code }, { steppedUp: true })
        return download(path, fallbackName, true)
      }
    }
    throw err
  }
  const m = /filename\*=UTF-8''([^;]+)/.exec(res.headers.get('Content-Disposition') || '')
  const url = URL.createObjectURL(await res.blob())
  const a = document.createElement('a')
  a.href = url
  a.download = m ? decodeURIComponent(m[1]) : fallbackName
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}

export const get = (p, o) => api('GET', p, undefined, o)
export const post = (p, b, o) => api('POST', p, b === undefined ? {} : b, o)
export const put = (p, b, o) => api('PUT', p, b, o)
export const patch = (p, b, o) => api('PATCH', p, b, o)
export const del = (p, o) => api('DELETE', p, undefined, o)

export function query(params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v)
  const s = q.toString()
  return s ? '?' + s : ''
}

// listOf accepts a bare array or a page {items}.
export const listOf = (x) => (Array.isArray(x) ? x : (x && x.items) || [])

// allItems reads every page of a list (a page is {items, next_cursor}), for
// screens that show a whole, short list: coupons, deals, flash sales.
export async function allItems(path, params = {}, o) {
  const out = []
  let cursor = ''
  for (let i = 0; i < 100; i++) {
    const page = await get(path + query({ ...params, cursor, limit: 100 }), o)
    out.push(...listOf(page))
    if (!page || !page.next_cursor) break
    cursor = page.next_cursor
  }
  return out
}

// newIdempotencyKey is a fresh random key (32 hex digits) for a request that
// must not be applied twice. crypto.getRandomValues, unlike randomUUID, also
// works on a console served over plain http.
export function newIdempotencyKey() {
  const b = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}
