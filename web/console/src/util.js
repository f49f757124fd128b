import { reactive } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import { i18n } from './i18n.js'

const t = (k, a) => i18n.global.t(k, a)

// fieldErrors holds the API's per-field messages for a form: pass
// errors[field] to el-form-item's :error so each shows next to its field.
export function fieldErrors() {
  const errors = reactive({})
  return {
    errors,
    clear() { for (const k of Object.keys(errors)) delete errors[k] },
    // apply shows e's field errors and returns whether there were any;
    // other errors go to a message.
    apply(e) {
      for (const k of Object.keys(errors)) delete errors[k]
      const f = (e && e.fields) || {}
      Object.assign(errors, f)
      if (!Object.keys(f).length) fail(e)
      else ElMessage({ type: 'error', message: e.message })
      return Object.keys(f).length > 0
    },
  }
}

export function fail(e) {
  const msg = !e ? t('errors.generic') : e.status === 403 ? `${t('errors.forbidden')}: ${e.message}` : e.message || t('errors.network')
  ElMessage({ type: 'error', message: msg })
}

export function ok(msg) { ElMessage({ type: 'success', message: msg || t('common.done') }) }

export function confirm(msg) {
  return ElMessageBox.confirm(msg, { confirmButtonText: t('common.confirm'), cancelButtonText: t('common.cancel'), type: 'warning' }).then(() => true, () => false)
}

// duration shows a number of seconds as its two largest units: "2 d 3 h", "45 min".
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0))
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60)
  const parts = []
  if (d) parts.push(t('duration.d', { n: d }))
  if (h) parts.push(t('duration.h', { n: h }))
  if (!d) parts.push(t('duration.m', { n: m }))
  return parts.slice(0, 2).join(' ')
}

// askCode asks for a code from the authenticator app (a sensitive action
// needs one); null when the user cancels.
export async function askCode() {
  try {
    const { value } = await ElMessageBox.prompt(t('security.stepUp'), t('security.stepUpTitle'), {
      confirmButtonText: t('common.confirm'), cancelButtonText: t('common.cancel'),
      inputPattern: /^\d{6}$/, inputErrorMessage: t('security.codeHint'),
    })
    return value
  } catch { return null }
}
