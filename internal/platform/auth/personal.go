package auth

// PermReveal shows personal data staff otherwise see masked (a buyer's
// phone, a receiver's name and phone), one record at a time, with a reason
// the audit log keeps (issue 18). Finance works on masked data.
const PermReveal Permission = "personal.reveal"

func init() {
	for _, r := range []Role{RoleOwner, RoleOperations, RoleService} {
		rolePermissions[r] = append(rolePermissions[r], PermReveal)
	}
}
