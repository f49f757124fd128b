package auth

// PermCosts keeps the shop's yearly cost ledger: renewals, their costs
// and reminders (issue 17).
const PermCosts Permission = "costs"

func init() {
	for _, r := range []Role{RoleOwner, RoleFinance} {
		rolePermissions[r] = append(rolePermissions[r], PermCosts)
	}
}
