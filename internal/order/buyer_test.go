package order

import (
	"reflect"
	"strings"
	"testing"
)

// jsonFields lists the JSON names of a struct's fields.
func jsonFields(v any) map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(v)
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

// TestBuyerShapesDecideEveryOrderField: each field of the staff Order and
// Line is either in the buyer's shape or named here as staff-only, so a
// field added for staff is not shown to buyers by accident and one added
// for buyers (like the per-line refunded amount) is not left out of
// their answers by accident.
func TestBuyerShapesDecideEveryOrderField(t *testing.T) {
	staffOnly := map[string]bool{"member_id": true, "staff_note": true, "events": true}
	for _, c := range []struct {
		staff, buyer any
	}{{Order{}, BuyerOrder{}}, {Line{}, BuyerLine{}}} {
		buyer := jsonFields(c.buyer)
		for name := range jsonFields(c.staff) {
			if !buyer[name] && !staffOnly[name] {
				t.Errorf("%T.%s is neither in %T nor staff-only", c.staff, name, c.buyer)
			}
		}
		for name := range buyer {
			if staffOnly[name] {
				t.Errorf("%T shows the staff-only %s", c.buyer, name)
			}
		}
	}
}
