package auth

// Paid content (issue 13): PermContentRead shows the catalogue and
// members' entitlements; PermContentManage edits the catalogue and grants
// and revokes entitlements by hand.
const (
	PermContentRead   Permission = "content.read"
	PermContentManage Permission = "content.manage"
)

func init() {
	for _, r := range []Role{RoleOwner, RoleOperations} {
		rolePermissions[r] = append(rolePermissions[r], PermContentRead, PermContentManage)
	}
	rolePermissions[RoleService] = append(rolePermissions[RoleService], PermContentRead)
}
