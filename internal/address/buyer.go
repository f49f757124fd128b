package address

import "time"

// Address is a buyer's saved address, as the buyer sees it (the owner is
// the session; no member id is shown). Region names come from the region
// table, so they are always the standard ones.
type Address struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name" doc:"the recipient"`
	Phone        string    `json:"phone"`
	ProvinceCode string    `json:"province_code" doc:"GB/T 2260"`
	Province     string    `json:"province"`
	CityCode     string    `json:"city_code"`
	City         string    `json:"city"`
	CountyCode   string    `json:"county_code" doc:"empty for a city without counties (东莞市 …)"`
	County       string    `json:"county"`
	Detail       string    `json:"detail" doc:"street, building, room"`
	PostalCode   string    `json:"postal_code"`
	Tag          string    `json:"tag" doc:"the buyer's label: 家, 公司 …"`
	IsDefault    bool      `json:"is_default" doc:"exactly one address of a non-empty book is the default"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Input is an address as the buyer sends it: regions by code (the names
// are taken from the table).
type Input struct {
	Name         string `json:"name" doc:"1 to 30 characters"`
	Phone        string `json:"phone" doc:"a mainland mobile number (1[3-9] and 9 digits) or a landline with its area code (010-12345678, 0571-8888888, an extension after -)"`
	ProvinceCode string `json:"province_code"`
	CityCode     string `json:"city_code"`
	CountyCode   string `json:"county_code" doc:"may be empty only for a city without counties"`
	Detail       string `json:"detail" doc:"1 to 120 characters"`
	PostalCode   string `json:"postal_code" doc:"6 digits or empty"`
	Tag          string `json:"tag" doc:"at most 10 characters"`
	IsDefault    bool   `json:"is_default" doc:"make it the default (the first address always is)"`
}

// WeChatInput is what wx.chooseAddress returns, sent as is.
type WeChatInput struct {
	UserName      string `json:"userName"`
	PostalCode    string `json:"postalCode"`
	ProvinceName  string `json:"provinceName"`
	CityName      string `json:"cityName"`
	CountyName    string `json:"countyName"`
	StreetName    string `json:"streetName,omitempty" doc:"newer WeChat versions; put before detailInfo"`
	DetailInfo    string `json:"detailInfo"`
	DetailInfoNew string `json:"detailInfoNew,omitempty" doc:"newer WeChat versions; used when detailInfo is empty"`
	NationalCode  string `json:"nationalCode" doc:"the county's GB/T 2260 code"`
	TelNumber     string `json:"telNumber"`
	IsDefault     bool   `json:"is_default,omitempty" doc:"make it the default"`
	ErrMsg        string `json:"errMsg,omitempty" doc:"ignored"`
}
