package auth

// PermContentTeach answers learners' questions and comments on lessons
// (replies marked as the teacher's, pins, hiding) and sees a course's
// learners and their progress (issue 13).
const PermContentTeach Permission = "content.teach"

func init() {
	for _, r := range []Role{RoleOwner, RoleOperations} {
		rolePermissions[r] = append(rolePermissions[r], PermContentTeach)
	}
}
