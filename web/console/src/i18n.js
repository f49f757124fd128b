import { createI18n } from 'vue-i18n'
import zh from './locales/zh-CN.js'
import en from './locales/en.js'

export const locales = { 'zh-CN': '中文', en: 'English' } // i18n-ignore: each language is named in itself

export const i18n = createI18n({
  legacy: false,
  locale: localStorage.getItem('kaidian.locale') || 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
})

export function setLocale(l) {
  i18n.global.locale.value = l
  localStorage.setItem('kaidian.locale', l)
  document.documentElement.lang = l
}
