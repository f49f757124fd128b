package auth

// PermRefundsApprove decides on refund requests above the customer-service
// limit and sets that limit (issue 11). In its own file, like moderation's.
const PermRefundsApprove Permission = "refunds.approve"

func init() {
	rolePermissions[RoleOwner] = append(rolePermissions[RoleOwner], PermRefundsApprove)
}
