package auth

// PermMembersWrite tags members, edits segments and writes staff notes on
// members (issue 14). In its own file, like moderation's.
const PermMembersWrite Permission = "members.write"

func init() {
	for _, r := range []Role{RoleOwner, RoleOperations, RoleService} {
		rolePermissions[r] = append(rolePermissions[r], PermMembersWrite)
	}
}
