package auth

// PermAnalyticsRead reads a shop's events, funnels and retention (issue 16).
const PermAnalyticsRead Permission = "analytics.read"

func init() {
	for _, r := range []Role{RoleOwner, RoleOperations, RoleFinance} {
		rolePermissions[r] = append(rolePermissions[r], PermAnalyticsRead)
	}
}
