package order

import (
	"context"
	"strings"

	"github.com/kaidian/kaidian/internal/freight"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/region"
	"github.com/kaidian/kaidian/internal/pricing"
	"github.com/kaidian/kaidian/internal/shop"
)

// Freights gives checkout the shop's freight templates; server passes the
// freight service (nil: every product ships at the flat fee).
type Freights interface {
	// Templates returns the templates of the ids in versions, each at
	// least at the version (updated_at, Unix ms) the order's lines were
	// read with, reading what it must through q (the order's transaction,
	// when there is one); a missing id is left out of the map.
	Templates(ctx context.Context, q db.Querier, shopID int64, versions map[int64]int64) (map[int64]*freight.Template, error)
}

// AddressBook gives checkout one of the buyer's saved addresses; server
// passes the address service.
type AddressBook interface {
	// Snapshot is address id of the buyer as an order keeps it; another
	// buyer's address is not found (404 address_not_found).
	Snapshot(ctx context.Context, shopID, memberID, id int64) (Address, error)
}

// SetFreight plugs freight templates into checkout.
func (s *Service) SetFreight(f Freights) { s.freight = f }

// SetAddressBook lets checkout take an address_id.
func (s *Service) SetAddressBook(b AddressBook) { s.book = b }

// resolveAddress fills the checkout's address: from the address book for
// an address_id, else the inline address with its region codes checked
// (names taken from the table) or, without codes, matched from its names
// (left without codes when they match nothing).
func (s *Service) resolveAddress(ctx context.Context, shopID, memberID, id int64, a *Address) error {
	if id != 0 {
		if s.book == nil {
			return errs.E(errs.NotFound, "address_not_found", "this server keeps no address books")
		}
		var err error
		*a, err = s.book.Snapshot(ctx, shopID, memberID, id)
		return err
	}
	if a.ProvinceCode != "" || a.CityCode != "" || a.DistrictCode != "" {
		res, p := region.FromCodes(a.ProvinceCode, a.CityCode, a.DistrictCode)
		if p != nil {
			field := map[string]string{"province": "province_code", "city": "city_code", "county": "district_code"}[p.Field]
			return errs.Field("address."+field, "invalid_region", p.Reason)
		}
		a.Province, a.City, a.District = res.Province.Name, res.City.Name, res.County.Name
		return nil
	}
	if a.Province == "" {
		return nil // a preview without an address
	}
	if res, p := region.Resolve(a.Province, a.City, a.District, ""); p == nil {
		a.ProvinceCode, a.CityCode, a.DistrictCode = res.Province.Code, res.City.Code, res.County.Code
	}
	return nil
}

// chain is the address's region codes, province first (nil when unknown).
func (a Address) chain() []string {
	if a.ProvinceCode == "" {
		return nil
	}
	out := []string{a.ProvinceCode, a.CityCode}
	if a.DistrictCode != "" {
		out = append(out, a.DistrictCode)
	}
	return out
}

// shippingFor is the shipping rule of an order's lines to addr: the shop's
// flat fee for lines without a freight template, and each template's fee
// on its own lines, added up (freight.QuoteLines). Without an address (a
// preview that names none) the templates' default rules price it.
func (s *Service) shippingFor(ctx context.Context, q db.Querier, sh shop.Shop, addr Address, lines []Line) (pricing.Shipping, error) {
	flat := pricing.Shipping{Fee: sh.ShippingFee, FreeAbove: sh.FreeShippingOver}
	var versions map[int64]int64
	for _, l := range lines {
		if l.freightTemplateID != 0 && l.freightVersion != 0 {
			if versions == nil {
				versions = map[int64]int64{}
			}
			versions[l.freightTemplateID] = l.freightVersion
		}
	}
	if len(versions) == 0 || s.freight == nil {
		return flat, nil
	}
	chain := addr.chain()
	if chain == nil && addr.Province != "" {
		return pricing.Shipping{}, errs.Field("address", "invalid_region",
			"the address's province, city and district match no region: send their codes or an address_id")
	}
	templates, err := s.freight.Templates(ctx, q, sh.ID, versions)
	if err != nil {
		return pricing.Shipping{}, err
	}
	fl := make([]freight.Line, len(lines))
	for i, l := range lines {
		fl[i] = freight.Line{TemplateID: l.freightTemplateID,
			Item: freight.Item{Quantity: l.Quantity, WeightGrams: l.weightGrams, Amount: l.Amount}}
	}
	fq := freight.QuoteLines(templates, chain, fl)
	if len(fq.Undelivered) > 0 {
		titles := make([]string, len(fq.Undelivered))
		for i, k := range fq.Undelivered {
			titles[i] = lines[k].Title
		}
		return pricing.Shipping{}, errs.E(errs.Unprocessable, "region_not_delivered",
			"not delivered to "+addr.Province+addr.City+addr.District+": "+strings.Join(titles, ", "))
	}
	ship := pricing.Shipping{Freight: fq.Fee}
	if fq.Flat {
		ship.Fee, ship.FreeAbove = flat.Fee, flat.FreeAbove
	}
	return ship, nil
}
