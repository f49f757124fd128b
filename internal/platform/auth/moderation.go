package auth

// Moderation permissions (issue 5). They are kept in their own file and
// added to the roles below so that the role table in auth.go stays as it is.
const (
	PermModerationRead   Permission = "moderation.read"   // see rules, the review queue, complaints and the decision log
	PermModerationManage Permission = "moderation.manage" // change rules, decide on content and complaints, ban authors
)

func init() {
	for _, r := range []Role{RoleOwner, RoleOperations, RoleService} {
		rolePermissions[r] = append(rolePermissions[r], PermModerationRead, PermModerationManage)
	}
}
