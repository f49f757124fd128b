package auth

// PermTickets opens and follows the shop's support tickets (issue 17);
// operators and agencies answer them.
const PermTickets Permission = "tickets"

func init() {
	for _, r := range []Role{RoleOwner, RoleOperations, RoleService, RoleFinance} {
		rolePermissions[r] = append(rolePermissions[r], PermTickets)
	}
}
