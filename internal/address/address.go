// Package address is the buyers' address book: up to MaxPerBuyer addresses
// each, with GB/T 2260 region codes checked against the region table,
// exactly one default (set atomically), validated phone numbers, and the
// import of what WeChat's wx.chooseAddress returns. Checkout takes its
// snapshot from here when the buyer names an address_id.
package address

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/region"
)

// MaxPerBuyer is the most addresses one buyer keeps.
const MaxPerBuyer = 20

var errNotFound = errs.E(errs.NotFound, "address_not_found", "no such address in your address book")

// Service keeps the address books.
type Service struct {
	db  *db.DB
	now func() time.Time
}

// NewService returns the address book service.
func NewService(d *db.DB) *Service { return &Service{db: d, now: time.Now} }

var (
	mobile   = regexp.MustCompile(`^1[3-9]\d{9}$`)
	landline = regexp.MustCompile(`^0\d{2,3}-?[1-9]\d{6,7}(-\d{1,6})?$`)
	postal   = regexp.MustCompile(`^\d{6}$`)
)

// ValidPhone reports whether p is a mainland mobile number or a landline
// with its area code (an extension may follow).
func ValidPhone(p string) bool { return mobile.MatchString(p) || landline.MatchString(p) }

// normalizePhone drops spaces and a +86 or 86 prefix of a mobile number.
func normalizePhone(p string) string {
	p = strings.Join(strings.Fields(p), "")
	for _, prefix := range []string{"+86-", "+86", "0086"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			return rest
		}
	}
	if len(p) == 13 && strings.HasPrefix(p, "86") && mobile.MatchString(p[2:]) {
		return p[2:]
	}
	return p
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// validate checks in and resolves its region codes; invalid_phone and
// invalid_region come before the other fields' invalid_fields.
func (in *Input) validate() (region.Resolved, error) {
	in.Name, in.Detail = strings.TrimSpace(in.Name), strings.TrimSpace(in.Detail)
	in.PostalCode, in.Tag = strings.TrimSpace(in.PostalCode), strings.TrimSpace(in.Tag)
	in.Phone = normalizePhone(in.Phone)
	if !ValidPhone(in.Phone) {
		return region.Resolved{}, errs.Field("phone", "invalid_phone", "must be a mainland mobile number (11 digits, 1[3-9]…) or a landline with its area code")
	}
	res, p := region.FromCodes(strings.TrimSpace(in.ProvinceCode), strings.TrimSpace(in.CityCode), strings.TrimSpace(in.CountyCode))
	if p != nil {
		return region.Resolved{}, errs.Field(p.Field+"_code", "invalid_region", p.Reason)
	}
	var v errs.Validator
	v.Check(runes(in.Name) >= 1 && runes(in.Name) <= 30, "name", "must be 1 to 30 characters")
	v.Check(runes(in.Detail) >= 1 && runes(in.Detail) <= 120, "detail", "must be 1 to 120 characters")
	v.Check(in.PostalCode == "" || postal.MatchString(in.PostalCode), "postal_code", "must be 6 digits or empty")
	v.Check(runes(in.Tag) <= 10, "tag", "must be at most 10 characters")
	return res, v.Err()
}

// FromWeChat turns wx.chooseAddress's answer into an Input, resolving the
// region names (and nationalCode) to codes; a name that cannot be resolved
// answers invalid_region naming provinceName, cityName or countyName.
func FromWeChat(w WeChatInput) (Input, error) {
	res, p := region.Resolve(w.ProvinceName, w.CityName, w.CountyName, w.NationalCode)
	if p != nil {
		field := map[string]string{"province": "provinceName", "city": "cityName", "county": "countyName"}[p.Field]
		return Input{}, errs.Field(field, "invalid_region", p.Reason)
	}
	detail := strings.TrimSpace(w.DetailInfo)
	if detail == "" {
		detail = strings.TrimSpace(w.DetailInfoNew)
	}
	if s := strings.TrimSpace(w.StreetName); s != "" && !strings.HasPrefix(detail, s) {
		detail = s + detail
	}
	in := Input{Name: w.UserName, Phone: w.TelNumber, ProvinceCode: res.Province.Code, CityCode: res.City.Code,
		CountyCode: res.County.Code, Detail: detail, PostalCode: w.PostalCode, IsDefault: w.IsDefault}
	if in.PostalCode == "000000" { // WeChat's placeholder for "unknown"
		in.PostalCode = ""
	}
	return in, nil
}

// List returns the buyer's addresses newest first, after the id after (0
// = from the newest), limit+1 of them for the page.
func (s *Service) List(ctx context.Context, shopID, memberID, after int64, limit int) ([]Address, error) {
	if after == 0 {
		after = 1 << 62
	}
	list, err := db.All(ctx, s.db, scanAddress, `SELECT `+columns+` FROM addresses
		WHERE shop_id = ? AND member_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, shopID, memberID, after, limit+1)
	return list, errs.Wrap("list addresses", err)
}

// Get returns one of the buyer's addresses (checkout takes its snapshot
// here). Another buyer's address is not found.
func (s *Service) Get(ctx context.Context, shopID, memberID, id int64) (Address, error) {
	a, err := scanAddress(s.db.QueryRow(ctx, `SELECT `+columns+` FROM addresses WHERE id = ? AND shop_id = ? AND member_id = ?`,
		id, shopID, memberID))
	if db.IsNoRows(err) {
		return Address{}, errNotFound
	}
	return a, errs.Wrap("get address", err)
}

// Create adds an address to the buyer's book (409 address_book_full past
// MaxPerBuyer). The first address, or one sent with is_default, becomes
// the default.
func (s *Service) Create(ctx context.Context, shopID, memberID int64, in Input) (Address, error) {
	res, err := in.validate()
	if err != nil {
		return Address{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		n, err := lockBook(ctx, tx, shopID, memberID)
		if err != nil {
			return err
		}
		if n >= MaxPerBuyer {
			return errs.E(errs.Conflict, "address_book_full", "an address book holds at most 20 addresses: delete one first")
		}
		makeDefault := in.IsDefault || n == 0
		if makeDefault {
			if err := clearDefault(ctx, tx, shopID, memberID); err != nil {
				return err
			}
		}
		now := s.now().UnixMilli()
		return tx.QueryRow(ctx, `INSERT INTO addresses (shop_id, member_id, name, phone, province_code, province, city_code, city,
			county_code, county, detail, postal_code, tag, is_default, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			shopID, memberID, in.Name, in.Phone, res.Province.Code, res.Province.Name, res.City.Code, res.City.Name,
			res.County.Code, res.County.Name, in.Detail, in.PostalCode, in.Tag, makeDefault, now, now).Scan(&id)
	})
	if err != nil {
		return Address{}, errs.Wrap("create address", err)
	}
	return s.Get(ctx, shopID, memberID, id)
}

// Update replaces one of the buyer's addresses. is_default true makes it
// the default; false leaves the default where it is (to move it, make
// another address the default).
func (s *Service) Update(ctx context.Context, shopID, memberID, id int64, in Input) (Address, error) {
	res, err := in.validate()
	if err != nil {
		return Address{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := lockBook(ctx, tx, shopID, memberID); err != nil {
			return err
		}
		if in.IsDefault {
			if err := clearDefault(ctx, tx, shopID, memberID); err != nil {
				return err
			}
		}
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE addresses SET name = ?, phone = ?, province_code = ?, province = ?, city_code = ?,
			city = ?, county_code = ?, county = ?, detail = ?, postal_code = ?, tag = ?, is_default = (is_default OR CAST(? AS BOOLEAN)), updated_at = ?
			WHERE id = ? AND shop_id = ? AND member_id = ?`,
			in.Name, in.Phone, res.Province.Code, res.Province.Name, res.City.Code, res.City.Name, res.County.Code, res.County.Name,
			in.Detail, in.PostalCode, in.Tag, in.IsDefault, s.now().UnixMilli(), id, shopID, memberID))
		if db.IsNoRows(err) {
			return errNotFound
		}
		return err
	})
	if err != nil {
		return Address{}, errs.Wrap("update address", err)
	}
	return s.Get(ctx, shopID, memberID, id)
}

// SetDefault makes one of the buyer's addresses the default, in one
// transaction: the old default is cleared and the new one set together.
func (s *Service) SetDefault(ctx context.Context, shopID, memberID, id int64) (Address, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := lockBook(ctx, tx, shopID, memberID); err != nil {
			return err
		}
		if err := clearDefault(ctx, tx, shopID, memberID); err != nil {
			return err
		}
		err := db.ExpectOne(tx.Exec(ctx, `UPDATE addresses SET is_default = TRUE, updated_at = ? WHERE id = ? AND shop_id = ? AND member_id = ?`,
			s.now().UnixMilli(), id, shopID, memberID))
		if db.IsNoRows(err) {
			return errNotFound
		}
		return err
	})
	if err != nil {
		return Address{}, errs.Wrap("set default address", err)
	}
	return s.Get(ctx, shopID, memberID, id)
}

// Delete removes one of the buyer's addresses; when it was the default,
// the newest remaining address becomes the default. Orders keep their own
// snapshot.
func (s *Service) Delete(ctx context.Context, shopID, memberID, id int64) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := lockBook(ctx, tx, shopID, memberID); err != nil {
			return err
		}
		var wasDefault bool
		err := tx.QueryRow(ctx, `DELETE FROM addresses WHERE id = ? AND shop_id = ? AND member_id = ? RETURNING is_default`,
			id, shopID, memberID).Scan(&wasDefault)
		if db.IsNoRows(err) {
			return errNotFound
		}
		if err != nil || !wasDefault {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE addresses SET is_default = TRUE WHERE id = (SELECT MAX(id) FROM addresses
			WHERE shop_id = ? AND member_id = ?) AND shop_id = ? AND member_id = ?`, shopID, memberID, shopID, memberID)
		return err
	})
	return errs.Wrap("delete address", err)
}

// lockBook serialises the changes to one buyer's book (a no-op update of
// the buyer's row, which concurrent changes wait for on PostgreSQL; SQLite
// has one writer) and returns how many addresses it holds. With the lock,
// the count limit and the one default hold under concurrent requests.
func lockBook(ctx context.Context, tx *db.Tx, shopID, memberID int64) (int64, error) {
	if err := db.ExpectOne(tx.Exec(ctx, `UPDATE members SET updated_at = updated_at WHERE id = ? AND shop_id = ?`, memberID, shopID)); err != nil {
		if db.IsNoRows(err) {
			return 0, errNotFound
		}
		return 0, err
	}
	var n int64
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM addresses WHERE shop_id = ? AND member_id = ?`, shopID, memberID).Scan(&n)
	return n, err
}

func clearDefault(ctx context.Context, tx *db.Tx, shopID, memberID int64) error {
	_, err := tx.Exec(ctx, `UPDATE addresses SET is_default = FALSE WHERE shop_id = ? AND member_id = ? AND is_default`, shopID, memberID)
	return err
}

const columns = `id, name, phone, province_code, province, city_code, city, county_code, county, detail, postal_code, tag,
	is_default, created_at, updated_at`

func scanAddress(row db.Scanner) (Address, error) {
	var a Address
	var created, updated int64
	err := row.Scan(&a.ID, &a.Name, &a.Phone, &a.ProvinceCode, &a.Province, &a.CityCode, &a.City, &a.CountyCode, &a.County,
		&a.Detail, &a.PostalCode, &a.Tag, &a.IsDefault, &created, &updated)
	a.CreatedAt, a.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return a, err
}
