package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/wxshipping"
)

// failedShipping reads every page of the failed-or-stuck reports list, limit at a time.
func (e *env) failedShipping(c caller, limit int) (items []map[string]any, pages int) {
	e.t.Helper()
	cursor := ""
	for pages = 1; pages < 20; pages++ {
		p := e.must(c, 200, "GET", fmt.Sprintf("/admin/api/v1/wechat-shipping/failed?limit=%d&cursor=%s", limit, url.QueryEscape(cursor)), nil)
		for _, it := range p["items"].([]any) {
			items = append(items, it.(map[string]any))
		}
		next, _ := p["next_cursor"].(string)
		if next == "" {
			return items, pages
		}
		cursor = next
	}
	e.t.Fatal("the failed shipping list never ends")
	return nil, 0
}

// wxPaidOrder is a new order of a's buyer, paid with WeChat Pay.
func (e *env) wxPaidOrder(a testShop) int64 {
	e.t.Helper()
	id := e.buyNow(a.member, a.skuID, 1)
	if d := e.payWithCerts(a.member, a.appid, id); !d.Delivered {
		e.t.Fatalf("payment: %+v", d)
	}
	return id
}

func orderIDs(items []map[string]any) map[int64]string {
	out := map[int64]string{}
	for _, it := range items {
		out[int64(it["order_id"].(float64))] = it["state"].(string)
	}
	return out
}

// TestFailedShippingReportsAreListed: staff see the reports WeChat refused
// and those stuck pending (long without progress, or after many refused
// attempts), newest shipment first, paginated, with why; uploaded and
// freshly pending ones are not listed; a retried report leaves the list;
// another shop's reports never show.
func TestFailedShippingReportsAreListed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		b := e.paidShop("乙")
		ship := func(s testShop, orderID int64, carrier string) {
			e.must(s.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", orderID),
				map[string]any{"carrier": carrier, "tracking_no": "TN0000000001"})
			e.runDueJobs(wxshipping.UploadKind)
		}
		ship(b, b.orderID, "火星快递")
		ship(a, a.orderID, "火星快递") // WeChat refuses an unknown carrier: failed
		fine := e.wxPaidOrder(a)
		ship(a, fine, "顺丰") // uploaded
		// Two reports WeChat answers "busy" once: pending, retried later.
		stuck, busy := e.wxPaidOrder(a), e.wxPaidOrder(a)
		e.sandbox.FailNext(shipAPI, -1)
		e.sandbox.FailNext(shipAPI, -1)
		for _, id := range []int64{stuck, busy} {
			e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/ship", id), map[string]any{"carrier": "顺丰", "tracking_no": "SF0000000002"})
		}
		e.runDueJobs(wxshipping.UploadKind)
		if items, _ := e.failedShipping(a.owner, 20); fmt.Sprint(orderIDs(items)) != fmt.Sprint(map[int64]string{a.orderID: "failed"}) {
			t.Fatalf("with two reports retrying after one refusal: %v", items)
		}
		// As after four more refusals of the busy one (the job queue's
		// backoff is not what is tested here).
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE wx_shipping_uploads SET attempts = 5 WHERE order_id = ? AND state = 'pending'`, busy); err != nil {
			t.Fatal(err)
		}
		if items, _ := e.failedShipping(a.owner, 20); fmt.Sprint(orderIDs(items)) != fmt.Sprint(map[int64]string{a.orderID: "failed", busy: "pending"}) {
			t.Fatalf("before the stuck report is 30 minutes old: %v", items)
		}
		// The report retried once has made no progress for 31 minutes.
		old := time.Now().Add(-31 * time.Minute).UnixMilli()
		if _, err := e.srv.DB.Exec(context.Background(), `UPDATE wx_shipping_uploads SET updated_at = ? WHERE order_id = ?`, old, stuck); err != nil {
			t.Fatal(err)
		}
		items, pages := e.failedShipping(a.owner, 1)
		want := map[int64]string{a.orderID: "failed", stuck: "pending", busy: "pending"}
		if pages != 3 || len(items) != 3 || fmt.Sprint(orderIDs(items)) != fmt.Sprint(want) {
			t.Fatalf("%d pages of one: %v, want %v", pages, items, want)
		}
		for i, it := range items {
			if it["order_no"] == "" || it["why"] == "" || it["shipped_at"] == nil {
				t.Fatalf("item %v", it)
			}
			// Parsed, not compared as text: JSON drops trailing zeros of
			// the fraction, so "…18.22Z" sorts after "…18.227Z" as a string.
			if i > 0 && parseJSONTime(t, it["shipped_at"]).After(parseJSONTime(t, items[i-1]["shipped_at"])) {
				t.Fatalf("not newest shipment first: %v", items)
			}
			why := it["why"].(string)
			switch int64(it["order_id"].(float64)) {
			case a.orderID:
				if it["errcode"] != float64(10060014) || !strings.Contains(why, "refused") {
					t.Fatalf("the refused report %v", it)
				}
			case stuck:
				if !strings.Contains(why, "31 minutes") {
					t.Fatalf("the stuck report %v", it)
				}
			case busy:
				if it["attempts"].(float64) < 5 || !strings.Contains(why, "attempts") {
					t.Fatalf("the busy report %v", it)
				}
			}
		}

		// Retried, the refused report is pending again and leaves the list.
		e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/wechat-shipping/retry", a.orderID), nil)
		if items, _ := e.failedShipping(a.owner, 20); orderIDs(items)[a.orderID] != "" {
			t.Fatalf("a retried report still listed: %v", items)
		}

		// Shop B sees only its own report, and cannot retry A's.
		bItems, _ := e.failedShipping(b.owner, 20)
		if fmt.Sprint(orderIDs(bItems)) != fmt.Sprint(map[int64]string{b.orderID: "failed"}) {
			t.Fatalf("shop B's list: %v", bItems)
		}
		if r := e.do(b.owner, "POST", fmt.Sprintf("/admin/api/v1/orders/%d/wechat-shipping/retry", stuck), nil); r.status != 404 {
			t.Fatalf("B retried A's report: %d %s", r.status, r.body)
		}
	})
}

// TestFailedShippingListBadInput: a bad cursor or limit is a 400 with a
// stable code; a buyer or no one gets no list.
func TestFailedShippingListBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.paidShop("甲")
		for _, q := range []string{"cursor=nonsense", "cursor=" + url.QueryEscape("k1:5"), "limit=0", "limit=101", "limit=x"} {
			r := e.do(a.owner, "GET", "/admin/api/v1/wechat-shipping/failed?"+q, nil)
			if r.status != 400 || r.code() == "" {
				t.Errorf("?%s: %d %s", q, r.status, r.body)
			}
		}
		for _, who := range []caller{{}, a.member} {
			if r := e.do(who, "GET", "/admin/api/v1/wechat-shipping/failed", nil); r.status != 401 && r.status != 403 {
				t.Errorf("as %+v: %d %s", who, r.status, r.body)
			}
		}
	})
}

func parseJSONTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("not a time: %v", v)
	}
	return at
}
