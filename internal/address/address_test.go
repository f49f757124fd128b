package address

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// newBuyers makes a shop with two buyers and a second shop with one.
func newBuyers(t *testing.T, d *db.DB) (shopA, a1, a2, shopB, b1 int64) {
	t.Helper()
	shop := func(appid string) int64 { return db.TestShop(t, d, appid) }
	member := func(shopID int64, openid string) int64 { return db.TestMember(t, d, shopID, openid) }
	shopA, shopB = shop("wx00000000000000a1"), shop("wx00000000000000b1")
	return shopA, member(shopA, "a1"), member(shopA, "a2"), shopB, member(shopB, "b1")
}

func home() Input {
	return Input{Name: "张三", Phone: "138 0013 8000", ProvinceCode: "330000", CityCode: "330100", CountyCode: "330106", Detail: "文三路 1 号", Tag: "家"}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func defaults(t *testing.T, s *Service, shopID, memberID int64) (ids []int64, total int) {
	t.Helper()
	list, err := s.List(context.Background(), shopID, memberID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.IsDefault {
			ids = append(ids, a.ID)
		}
	}
	return ids, len(list)
}

func TestAddressBook(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewService(d)
		shopA, a1, a2, shopB, b1 := newBuyers(t, d)
		first, err := s.Create(ctx, shopA, a1, home())
		if err != nil {
			t.Fatal(err)
		}
		if !first.IsDefault || first.Province != "浙江省" || first.City != "杭州市" || first.County != "西湖区" || first.Phone != "13800138000" {
			t.Fatalf("the first address: %+v", first)
		}
		in := home()
		in.ProvinceCode, in.CityCode, in.CountyCode, in.Phone, in.Tag = "110000", "110100", "110105", "010-12345678", "公司"
		second, err := s.Create(ctx, shopA, a1, in)
		if err != nil {
			t.Fatal(err)
		}
		if second.IsDefault || second.City != "北京市" {
			t.Fatalf("the second address: %+v", second)
		}
		if got, err := s.SetDefault(ctx, shopA, a1, second.ID); err != nil || !got.IsDefault {
			t.Fatalf("set default: %v %+v", err, got)
		}
		if ids, n := defaults(t, s, shopA, a1); len(ids) != 1 || ids[0] != second.ID || n != 2 {
			t.Fatalf("defaults %v of %d", ids, n)
		}
		// Updating the default without is_default keeps it the default.
		in.Detail = "建国路 2 号"
		if got, err := s.Update(ctx, shopA, a1, second.ID, in); err != nil || !got.IsDefault || got.Detail != "建国路 2 号" {
			t.Fatalf("update: %v %+v", err, got)
		}
		// Deleting the default makes the newest remaining one the default.
		if err := s.Delete(ctx, shopA, a1, second.ID); err != nil {
			t.Fatal(err)
		}
		if ids, n := defaults(t, s, shopA, a1); len(ids) != 1 || ids[0] != first.ID || n != 1 {
			t.Fatalf("after deleting the default: %v of %d", ids, n)
		}

		// Another buyer, of this shop or another, neither sees nor changes it.
		for _, who := range []struct{ shop, member int64 }{{shopA, a2}, {shopB, b1}, {shopB, a1}} {
			_, err := s.Get(ctx, who.shop, who.member, first.ID)
			wantCode(t, err, "address_not_found")
			_, err = s.Update(ctx, who.shop, who.member, first.ID, home())
			if !errs.Is(err, "address_not_found") {
				t.Fatalf("update by %v: %v", who, err)
			}
			_, err = s.SetDefault(ctx, who.shop, who.member, first.ID)
			if !errs.Is(err, "address_not_found") {
				t.Fatalf("set default by %v: %v", who, err)
			}
			if err := s.Delete(ctx, who.shop, who.member, first.ID); !errs.Is(err, "address_not_found") {
				t.Fatalf("delete by %v: %v", who, err)
			}
			if list, _ := s.List(ctx, who.shop, who.member, 0, 100); len(list) != 0 && who.member != a2 {
				t.Fatalf("%v lists %v", who, list)
			}
		}
		if got, err := s.Get(ctx, shopA, a1, first.ID); err != nil || got.Detail != "文三路 1 号" {
			t.Fatalf("the address changed: %v %+v", err, got)
		}
	})
}

func TestAddressBookLimitsAndOneDefaultUnderConcurrency(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewService(d)
		shopA, a1, _, _, _ := newBuyers(t, d)
		var wg sync.WaitGroup
		errsSeen := make(chan error, 30)
		for i := 0; i < 30; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := home()
				in.IsDefault = i%2 == 0
				in.Detail = fmt.Sprintf("文三路 %d 号", i)
				_, err := s.Create(ctx, shopA, a1, in)
				errsSeen <- err
			}()
		}
		wg.Wait()
		close(errsSeen)
		full := 0
		for err := range errsSeen {
			switch {
			case err == nil:
			case errs.Is(err, "address_book_full"):
				full++
			default:
				t.Fatal(err)
			}
		}
		ids, n := defaults(t, s, shopA, a1)
		if n != MaxPerBuyer || full != 30-MaxPerBuyer || len(ids) != 1 {
			t.Fatalf("%d addresses (%d refused), defaults %v", n, full, ids)
		}
		// Concurrent set-defaults leave exactly one default.
		list, _ := s.List(ctx, shopA, a1, 0, 100)
		for _, a := range list {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.SetDefault(ctx, shopA, a1, a.ID); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ids, _ := defaults(t, s, shopA, a1); len(ids) != 1 {
			t.Fatalf("defaults after concurrent changes: %v", ids)
		}
	})
}

func TestAddressValidation(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Input)
		code string
	}{
		{"short mobile", func(in *Input) { in.Phone = "1380013800" }, "invalid_phone"},
		{"mobile starting 12", func(in *Input) { in.Phone = "12800138000" }, "invalid_phone"},
		{"letters", func(in *Input) { in.Phone = "call me" }, "invalid_phone"},
		{"landline without area code", func(in *Input) { in.Phone = "88888888" }, "invalid_phone"},
		{"unknown province", func(in *Input) { in.ProvinceCode = "990000" }, "invalid_region"},
		{"city of another province", func(in *Input) { in.CityCode = "110100" }, "invalid_region"},
		{"county of another city", func(in *Input) { in.CountyCode = "330203" }, "invalid_region"},
		{"missing county", func(in *Input) { in.CountyCode = "" }, "invalid_region"},
		{"a county as the city", func(in *Input) { in.CityCode = "330106" }, "invalid_region"},
		{"no detail", func(in *Input) { in.Detail = " " }, "invalid_fields"},
		{"long name", func(in *Input) { in.Name = string(make([]rune, 31)) }, "invalid_fields"},
		{"bad postal code", func(in *Input) { in.PostalCode = "31000" }, "invalid_fields"},
	} {
		in := home()
		c.edit(&in)
		_, err := in.validate()
		if !errs.Is(err, c.code) {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	for _, p := range []string{"13800138000", "+86 138 0013 8000", "8613800138000", "010-12345678", "0571-8888888", "02012345678", "0755-88888888-123"} {
		in := home()
		in.Phone = p
		if _, err := in.validate(); err != nil {
			t.Errorf("phone %q refused: %v", p, err)
		}
	}
	// A city without counties needs none.
	in := home()
	in.ProvinceCode, in.CityCode, in.CountyCode = "440000", "441900", ""
	if res, err := in.validate(); err != nil || res.City.Name != "东莞市" {
		t.Errorf("东莞市 without a county: %v %+v", err, res)
	}
}

func TestFromWeChat(t *testing.T) {
	w := WeChatInput{UserName: "张三", PostalCode: "310000", ProvinceName: "浙江省", CityName: "杭州市", CountyName: "西湖区",
		DetailInfo: "文三路 1 号", NationalCode: "330106", TelNumber: "13800138000", ErrMsg: "chooseAddress:ok"}
	for _, c := range []struct {
		name   string
		edit   func(*WeChatInput)
		county string
		field  string
	}{
		{"as WeChat sends it", func(*WeChatInput) {}, "330106", ""},
		{"no national code, short names", func(w *WeChatInput) {
			w.NationalCode, w.ProvinceName, w.CityName, w.CountyName = "", "浙江", "杭州", "西湖"
		}, "330106", ""},
		{"a wrong national code, right names", func(w *WeChatInput) { w.NationalCode = "110105" }, "330106", ""},
		{"municipality", func(w *WeChatInput) {
			w.NationalCode, w.ProvinceName, w.CityName, w.CountyName = "", "北京市", "北京市", "朝阳区"
		}, "110105", ""},
		{"autonomous region", func(w *WeChatInput) {
			w.NationalCode, w.ProvinceName, w.CityName, w.CountyName = "", "广西", "南宁市", "青秀区"
		}, "450103", ""},
		{"unknown province", func(w *WeChatInput) { w.NationalCode, w.ProvinceName = "", "火星" }, "", "provinceName"},
		{"unknown city", func(w *WeChatInput) { w.NationalCode, w.CityName = "", "宁波" }, "", "countyName"},
		{"unknown county", func(w *WeChatInput) { w.NationalCode, w.CountyName = "", "不存在区" }, "", "countyName"},
		{"nonsense city", func(w *WeChatInput) { w.NationalCode, w.CityName = "", "奥林匹斯" }, "", "cityName"},
	} {
		in := w
		c.edit(&in)
		got, err := FromWeChat(in)
		if c.field != "" {
			e := errs.As(err)
			if e.Code != "invalid_region" || e.Fields[c.field] == "" {
				t.Errorf("%s: %v (%v), want invalid_region on %s", c.name, err, e.Fields, c.field)
			}
			continue
		}
		if err != nil || got.CountyCode != c.county {
			t.Errorf("%s: %v %+v, want county %s", c.name, err, got, c.county)
		}
	}
}
