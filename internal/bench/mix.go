package bench

import (
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
)

// The request mixes of the catalog scenarios. Each picks a shop, then what
// a shopper of that shop would ask for.

// DetailRequest is GET /api/v1/products/{id} of a random product on the
// shelf.
func (d *Dataset) DetailRequest(r *rand.Rand) Request {
	for {
		id := 1 + r.Int64N(int64(d.SPUs))
		if OnShelf(id) {
			return Request{Path: "/api/v1/products/" + strconv.FormatInt(id, 10), AppID: AppID(d.ShopOf(id))}
		}
	}
}

// CategoryRequest is the first page of 20 of a random category: a leaf
// 4 times in 5, otherwise a top-level category (which includes its leaves).
func (d *Dataset) CategoryRequest(r *rand.Rand) Request {
	shop := 1 + r.Int64N(int64(d.Shops))
	var cat int64
	if r.IntN(5) == 0 {
		cat = TopCategoryID(shop, r.IntN(Tops))
	} else {
		cat = LeafCategoryID(shop, r.IntN(Tops), r.IntN(LeavesPerTop))
	}
	return Request{Path: "/api/v1/products?category_id=" + strconv.FormatInt(cat, 10) + "&limit=20", AppID: AppID(shop)}
}

// SearchRequest is the first page of 20 of a keyword search: one word of
// the title vocabulary, or (1 time in 4) a modifier and a product noun that
// can occur together in a title, such as "纯棉 连衣裙" (they still match
// nothing now and then, as real searches do).
func (d *Dataset) SearchRequest(r *rand.Rand) Request {
	shop := 1 + r.Int64N(int64(d.Shops))
	var q string
	if r.IntN(4) == 0 {
		t := r.IntN(Tops)
		mods := commonModifiers
		if r.IntN(2) == 0 {
			mods = tree[t].attrs
		}
		q = pick(r, mods) + " " + pick(r, tree[t].leaves)
	} else {
		q = pick(r, vocabWords)
	}
	return Request{Path: "/api/v1/products?q=" + url.QueryEscape(q) + "&limit=20", AppID: AppID(shop)}
}

var (
	vocabWords = Vocabulary()
	// commonModifiers go with every noun.
	commonModifiers = slices.Concat(seasons, styles, colours, audiences, suffixes)
)
