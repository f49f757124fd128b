package auth

// PermPointsManage changes a shop's points rules and adjusts members'
// points (issue 14). Reading them needs PermMembersRead.
const PermPointsManage Permission = "points.manage"

func init() {
	for _, r := range []Role{RoleOwner, RoleOperations} {
		rolePermissions[r] = append(rolePermissions[r], PermPointsManage)
	}
}
