import { dateTime } from '../../session.js'

// releaseText says whether buyers see a course, lesson, package or plan:
// a draft, published, or scheduled for a time still ahead.
export function releaseText(t, row) {
  if (row.status !== 'published') return t('content.draft')
  if (row.publish_at && new Date(row.publish_at) > new Date()) return t('content.scheduled', { at: dateTime(row.publish_at) })
  return t('content.published')
}
