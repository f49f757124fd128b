// Fails the build when the locales differ in their keys, when a component
// uses a key no locale has, or when a component holds Chinese text outside
// the locales (every string a user reads goes through vue-i18n).
import fs from 'node:fs'
import path from 'node:path'
import zh from '../src/locales/zh-CN.js'
import en from '../src/locales/en.js'

const keys = (o, p = '') => Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, p + k + '.') : [p + k]))
const problems = []
const zk = new Set(keys(zh))
const ek = new Set(keys(en))
for (const k of zk) if (!ek.has(k)) problems.push(`en lacks ${k}`)
for (const k of ek) if (!zk.has(k)) problems.push(`zh-CN lacks ${k}`)

const files = []
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
  const p = path.join(d, e.name)
  if (e.isDirectory()) { if (e.name !== 'locales') walk(p) } else if (/\.(vue|js)$/.test(e.name)) files.push(p)
})
walk(new URL('../src', import.meta.url).pathname)
for (const f of files) {
  const src = fs.readFileSync(f, 'utf8')
  for (const m of src.matchAll(/\bt\('([A-Za-z0-9_.]+)'/g)) {
    const k = m[1]
    if (k.endsWith('.')) continue // a prefix completed at run time, e.g. 'order.statuses.' + status
    if (!zk.has(k)) problems.push(`${path.basename(f)} uses ${k}, which no locale has`)
  }
  src.split('\n').forEach((line, i) => {
    if (/[\u4e00-\u9fff]/.test(line) && !line.includes('i18n-ignore')) problems.push(`${path.basename(f)}:${i + 1} has Chinese text outside the locales`)
  })
}
if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(`i18n: ${zk.size} keys in zh-CN and en`)
