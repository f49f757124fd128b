// Package auth carries who is calling (a buyer or a staff member) through a
// request's context, and defines staff roles and the permissions they grant.
// It stores nothing: the member and account packages authenticate.
package auth

import "context"

// Member is a logged-in mini-program user of one shop.
type Member struct {
	ID     int64
	ShopID int64
}

// Role is a staff role. Operators run the deployment; the others belong to
// one shop.
type Role string

const (
	RoleOperator   Role = "operator"
	RoleOwner      Role = "owner"
	RoleOperations Role = "operations"
	RoleService    Role = "service" // customer service
	RoleFinance    Role = "finance"
	// RoleAgency is an agency's login: it belongs to no shop and acts on
	// the shops granted to it (X-Shop-Id), in each with the role granted
	// there; by itself it may do nothing shop-scoped.
	RoleAgency Role = "agency"
)

// EnumValues lists the roles for the API document.
func (Role) EnumValues() []string {
	return []string{string(RoleOperator), string(RoleOwner), string(RoleOperations), string(RoleService), string(RoleFinance), string(RoleAgency)}
}

// ShopRoles are the roles a shop's staff can hold.
var ShopRoles = []Role{RoleOwner, RoleOperations, RoleService, RoleFinance}

// ValidShopRole reports whether r is a role shop staff can hold.
func ValidShopRole(r Role) bool {
	for _, s := range ShopRoles {
		if r == s {
			return true
		}
	}
	return false
}

// Permission names an action on the admin API.
type Permission string

const (
	PermShops        Permission = "shops.manage"   // operator: create and configure shops
	PermShopRead     Permission = "shop.read"      // see the shop's own profile
	PermShopSettings Permission = "shop.settings"  // change the shop's WeChat settings
	PermStaff        Permission = "staff.manage"   // add and change staff accounts
	PermCatalogRead  Permission = "catalog.read"   // see products and categories
	PermCatalogWrite Permission = "catalog.write"  // change products and categories
	PermMembersRead  Permission = "members.read"   // see buyers
	PermSessions     Permission = "sessions.admin" // revoke buyers' sessions
	PermOrdersRead   Permission = "orders.read"    // see orders
	PermOrdersManage Permission = "orders.manage"  // ship, cancel, annotate orders

	PermPromotionsRead   Permission = "promotions.read"   // see flash sales, coupons and their results
	PermPromotionsManage Permission = "promotions.manage" // create flash sales and coupons, grant coupons
)

var rolePermissions = map[Role][]Permission{
	RoleOwner: {PermShopRead, PermShopSettings, PermStaff, PermCatalogRead, PermCatalogWrite, PermMembersRead, PermSessions,
		PermOrdersRead, PermOrdersManage, PermPromotionsRead, PermPromotionsManage},
	RoleOperations: {PermShopRead, PermCatalogRead, PermCatalogWrite, PermMembersRead, PermOrdersRead, PermOrdersManage,
		PermPromotionsRead, PermPromotionsManage},
	RoleService: {PermShopRead, PermCatalogRead, PermMembersRead, PermSessions, PermOrdersRead, PermOrdersManage},
	RoleFinance: {PermShopRead, PermCatalogRead, PermOrdersRead, PermPromotionsRead},
}

// Can reports whether role grants p. Operators can do everything.
func (r Role) Can(p Permission) bool {
	if r == RoleOperator {
		return true
	}
	for _, q := range rolePermissions[r] {
		if q == p {
			return true
		}
	}
	return false
}

// Permissions lists what role grants, for the console's menu.
func (r Role) Permissions() []Permission {
	if r == RoleOperator {
		all := []Permission{PermShops}
		return append(all, rolePermissions[RoleOwner]...)
	}
	return append([]Permission(nil), rolePermissions[r]...)
}

// Staff is a logged-in admin account. ShopID is the shop it acts on: its own
// shop for shop staff, the shop an operator selected (0 when none).
//
// For an agency account acting on a granted shop, Role is the role granted
// in that shop and Agency is set.
type Staff struct {
	AccountID int64
	ShopID    int64
	Role      Role
	Username  string
	Agency    bool

	// SessionID is the public id of the session (GET /admin/api/v1/auth/sessions).
	SessionID int64
	// TOTPEnabled: the account verifies a second factor (TOTP).
	TOTPEnabled bool
	// SteppedUp: the session verified a code within the step-up window (or
	// sent one with this request), or the account has no TOTP and so
	// nothing to verify. Handlers of sensitive actions ask it.
	SteppedUp bool
	// MustEnrol: TOTP is required of this account (by the deployment or
	// its shop) and it has none yet: only the enrolment routes, who am I
	// and logout serve it.
	MustEnrol bool
}

type ctxKey int

const (
	memberKey ctxKey = iota
	staffKey
	shopKey
)

// WithMember returns ctx carrying m.
func WithMember(ctx context.Context, m Member) context.Context {
	return context.WithValue(ctx, memberKey, m)
}

// MemberFrom returns the member of ctx, if any.
func MemberFrom(ctx context.Context) (Member, bool) {
	m, ok := ctx.Value(memberKey).(Member)
	return m, ok
}

// WithStaff returns ctx carrying s.
func WithStaff(ctx context.Context, s Staff) context.Context {
	return context.WithValue(ctx, staffKey, s)
}

// StaffFrom returns the staff member of ctx, if any.
func StaffFrom(ctx context.Context) (Staff, bool) {
	s, ok := ctx.Value(staffKey).(Staff)
	return s, ok
}

// WithShop returns ctx carrying the shop a public mini-program request is for.
func WithShop(ctx context.Context, shopID int64) context.Context {
	return context.WithValue(ctx, shopKey, shopID)
}

// ShopFrom returns the shop of a mini-program request: the logged-in
// member's shop, or the shop named by the request's appid.
func ShopFrom(ctx context.Context) int64 {
	if m, ok := MemberFrom(ctx); ok {
		return m.ShopID
	}
	id, _ := ctx.Value(shopKey).(int64)
	return id
}

// StaffShop returns the shop a staff request acts on (0 when none).
func StaffShop(ctx context.Context) int64 {
	s, _ := StaffFrom(ctx)
	return s.ShopID
}
