// phase says where now is in a [starts, ends) window: upcoming, running or ended.
export function phase(starts, ends) {
  const now = Date.now()
  if (now < new Date(starts).getTime()) return 'upcoming'
  if (now < new Date(ends).getTime()) return 'running'
  return 'ended'
}
export const phaseTag = (p) => ({ upcoming: 'warning', running: 'success', ended: 'info' })[p]

// ids parses "1, 2 3" into [1, 2, 3] (positive integers only).
export const ids = (s) => String(s || '').split(/[\s,;]+/).map(Number).filter((n) => Number.isInteger(n) && n > 0)
