package bench

import (
	"math/rand/v2"
	"strconv"
	"sync/atomic"
)

// OrderStock is the stock the orders scenario gives every SKU of its shop
// (stock + locked), so that a run never sells out.
const OrderStock = 1_000_000

// Buyer is a member of the orders scenario's shop with a live session.
type Buyer struct {
	MemberID int64
	Token    string
}

// OrderAddress is the shipping address of every benchmark order.
const OrderAddress = `{"name":"张三","phone":"13800138000","province":"浙江省","city":"杭州市","district":"西湖区","detail":"文三路 1 号"}`

// OrderSKU returns a random SKU of a product of shop that is on the shelf.
func (d *Dataset) OrderSKU(r *rand.Rand, shop int64) int64 {
	perShop := (int64(d.SPUs) - shop) / int64(d.Shops) // products of shop: shop, shop+Shops, …
	for {
		id := shop + r.Int64N(perShop+1)*int64(d.Shops)
		if OnShelf(id) {
			return (id-1)*int64(d.SKUsPerSPU) + 1 + r.Int64N(int64(d.SKUsPerSPU))
		}
	}
}

// Orders is the order-creation mix: client i acts as buyer i (mod the
// buyers) and places "buy now" orders of one unit of a random SKU of shop,
// each under a new Idempotency-Key (keys count from 1 in the whole run).
type Orders struct {
	Data   *Dataset
	Shop   int64
	Buyers []Buyer
	keys   atomic.Uint64
}

// Keys is how many idempotency keys were handed out.
func (o *Orders) Keys() uint64 { return o.keys.Load() }

// Client returns the request source of client i.
func (o *Orders) Client(i int) func(r *rand.Rand) Request {
	b := o.Buyers[i%len(o.Buyers)]
	auth := "Bearer " + b.Token
	appid := AppID(o.Shop)
	return func(r *rand.Rand) Request {
		req, _ := o.request(r, appid, auth)
		return req
	}
}

// Request returns the next order of buyer i and its idempotency key.
func (o *Orders) Request(r *rand.Rand, i int) (Request, string) {
	return o.request(r, AppID(o.Shop), "Bearer "+o.Buyers[i%len(o.Buyers)].Token)
}

func (o *Orders) request(r *rand.Rand, appid, auth string) (Request, string) {
	key := "bench-order-" + strconv.FormatUint(o.keys.Add(1), 10)
	body := make([]byte, 0, 256)
	body = append(body, `{"items":[{"sku_id":`...)
	body = strconv.AppendInt(body, o.Data.OrderSKU(r, o.Shop), 10)
	body = append(body, `,"quantity":1}],"address":`...)
	body = append(body, OrderAddress...)
	body = append(body, '}')
	return Request{Method: "POST", Path: "/api/v1/orders", AppID: appid, Body: body,
		Headers: []Header{{"Authorization", auth}, {"Idempotency-Key", key}}}, key
}
