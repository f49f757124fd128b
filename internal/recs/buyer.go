package recs

import "github.com/kaidian/kaidian/internal/catalog"

// Recommendation is a product recommended to a buyer and why.
type Recommendation struct {
	Source  string          `json:"source" enum:"bought_together,also_bought,for_you,popular_in_category,popular" doc:"bought_together: in the same orders; also_bought: bought by the same buyers in other orders; for_you: like what you bought or viewed; then the fallbacks, popular in the category and in the shop"`
	Product catalog.Summary `json:"product"`
}

// Recommendations is an answer of the recommendation routes, best first.
type Recommendations struct {
	Items []Recommendation `json:"items"`
}

// RecentlyViewed is the buyer's recently viewed products on the shelf,
// newest first (at most 50).
type RecentlyViewed struct {
	Items []catalog.Summary `json:"items"`
}
