package auth

// PermAudit reads and exports the shop's staff audit log (issue 18): who
// changed what and who took personal data out. Owners only (operators can
// do everything); the deployment's own records need PermShops.
const PermAudit Permission = "audit.read"

func init() {
	rolePermissions[RoleOwner] = append(rolePermissions[RoleOwner], PermAudit)
}
