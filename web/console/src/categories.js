import { get } from './api.js'

// loadCategories returns the tree as el-cascader / el-tree-select options.
export async function loadCategories() {
  const tree = (await get('/categories')) || []
  const map = (c) => ({ value: c.id, label: c.name, id: c.id, name: c.name, parent_id: c.parent_id, sort: c.sort, children: (c.children || []).map(map) })
  return tree.map(map)
}

export function categoryNames(tree) {
  const out = {}
  const walk = (list, prefix) => list.forEach((c) => { out[c.id] = prefix + c.name; walk(c.children || [], prefix + c.name + ' / ') })
  walk(tree, '')
  return out
}
