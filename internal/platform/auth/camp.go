package auth

// PermCampRead sees training camps, their learners and check-ins;
// PermCampManage creates and edits camps and reviews check-ins (issue 13).
const (
	PermCampRead   Permission = "camp.read"
	PermCampManage Permission = "camp.manage"
)

func init() {
	for _, r := range []Role{RoleOwner, RoleOperations} {
		rolePermissions[r] = append(rolePermissions[r], PermCampRead, PermCampManage)
	}
	rolePermissions[RoleService] = append(rolePermissions[RoleService], PermCampRead)
}
