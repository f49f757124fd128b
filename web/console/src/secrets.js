export const emptySecrets = () => ({ app_secret: '', apiv3_key: '', mch_private_key: '', platform_cert: '', pay_public_key: '', push_token: '', push_aes_key: '' })
// typedSecrets returns only the secrets that were typed, or undefined.
export function typedSecrets(s, only) {
  const out = {}
  for (const [k, v] of Object.entries(s)) if (v && (!only || only.includes(k))) out[k] = v
  return Object.keys(out).length ? out : undefined
}
