package auth

// PermPrivacy follows members' privacy requests (exports, account
// deletions) and their deadlines, and publishes the shop's privacy policy
// and user agreement (issue 18).
const PermPrivacy Permission = "privacy"

func init() {
	for _, r := range []Role{RoleOwner, RoleService} {
		rolePermissions[r] = append(rolePermissions[r], PermPrivacy)
	}
}
