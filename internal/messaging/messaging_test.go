package messaging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// fakes: orders by id, openid "o<member id>", a scripted WeChat.
type fakeOrders struct{}

func (fakeOrders) Get(_ context.Context, shopID, id, _ int64) (order.Order, error) {
	if id >= 1000 {
		return order.Order{}, errs.E(errs.NotFound, "order_not_found", "no such order")
	}
	paidAt := time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC)
	return order.Order{ID: id, OrderNo: "KD" + strconv.FormatInt(id, 10), Status: "paid", PaidAmount: 9990, PaidAt: &paidAt,
		Lines: []order.Line{{Title: "真丝连衣裙 夏季新款 法式复古碎花长裙 收腰显瘦 👗", Quantity: 1}}}, nil
}

func (f fakeOrders) HeadAndLinesIn(ctx context.Context, _ db.Querier, shopID, id int64) (order.Order, error) {
	return f.Get(ctx, shopID, id, 0)
}

type fakeMembers struct{}

func (fakeMembers) OpenID(_ context.Context, _, id int64) (string, error) {
	return "o" + strconv.FormatInt(id, 10), nil
}

func (fakeMembers) IDByOpenID(_ context.Context, _ int64, openid string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(openid, "o"), 10, 64)
	if err != nil {
		return 0, errs.E(errs.NotFound, "member_not_found", "no such member")
	}
	return id, nil
}

type fakeApps struct{}

func (fakeApps) App(context.Context, int64) (wechat.App, error) {
	return wechat.App{AppID: "wxtest", Secret: "s"}, nil
}

type fakeWeChat struct {
	mu   sync.Mutex
	sent []wechat.SubscribeMessage
	errs []error // answered in order before successes
}

func (f *fakeWeChat) SendSubscribeMessage(_ context.Context, _ wechat.App, m wechat.SubscribeMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return err
	}
	f.sent = append(f.sent, m)
	return nil
}

func (f *fakeWeChat) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

type fixture struct {
	s              *Service
	wx             *fakeWeChat
	d              *db.DB
	shop, a, b     int64
	otherShop, oth int64
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	shop := func(appid string) int64 { return db.TestShop(t, d, appid) }
	member := func(shopID int64, openid string) int64 { return db.TestMember(t, d, shopID, openid) }
	wx := &fakeWeChat{}
	f := &fixture{s: NewService(d, fakeOrders{}, fakeApps{}, fakeMembers{}, wx, slog.New(slog.NewTextHandler(io.Discard, nil))), wx: wx, d: d}
	f.shop, f.otherShop = shop("wx00000000000000a1"), shop("wx00000000000000b1")
	f.a, f.b, f.oth = member(f.shop, "a"), member(f.shop, "b"), member(f.otherShop, "c")
	return f
}

func (f *fixture) setPaidTemplate(t *testing.T, shopID int64) {
	t.Helper()
	_, err := f.s.SetTemplate(context.Background(), shopID, TemplateInput{Kind: OrderPaid, TemplateID: "TPL_PAID",
		Page: "pages/order/detail?id={order_id}", Fields: map[string]string{"thing1": "order.title", "amount2": "order.amount",
			"time3": "order.paid_at", "character_string4": "order.no"}})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) accept(t *testing.T, shopID, memberID int64, n int) {
	t.Helper()
	for range n {
		if _, err := f.s.Report(context.Background(), shopID, memberID, ReportInput{Results: map[string]string{"TPL_PAID": Accept}}); err != nil {
			t.Fatal(err)
		}
	}
}

// paid queues the "paid" message of an order as the OnPaid hook does.
func (f *fixture) paid(t *testing.T, shopID, memberID, orderID int64) int64 {
	t.Helper()
	ctx := context.Background()
	err := f.d.InTx(ctx, func(tx *db.Tx) error {
		return f.s.Paid(ctx, tx, order.PaidOrder{ShopID: shopID, OrderID: orderID, MemberID: memberID, Amount: 9990})
	})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := f.d.QueryRow(ctx, `SELECT id FROM messages WHERE shop_id = ? AND kind = ? AND ref_id = ?`, shopID, OrderPaid, orderID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// run is one run of a message's send job.
func (f *fixture) run(shopID, messageID int64, attempt int) error {
	payload, _ := json.Marshal(sendJob{MessageID: messageID})
	return f.s.runSend(context.Background(), jobs.Job{Kind: SendKind, ShopID: shopID, Payload: payload, Attempts: attempt})
}

func (f *fixture) message(t *testing.T, shopID, id int64) Message {
	t.Helper()
	m, err := f.s.Message(context.Background(), shopID, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) remaining(t *testing.T, shopID, memberID int64) int {
	t.Helper()
	subs, err := f.s.Subscriptions(context.Background(), shopID, memberID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if s.TemplateID == "TPL_PAID" {
			return s.Remaining
		}
	}
	return -1
}

func TestOneAcceptanceOneMessageThenInbox(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.setPaidTemplate(t, f.shop)
		f.accept(t, f.shop, f.a, 1)

		// The queue itself runs the first one.
		q := jobs.New(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
		f.s.RegisterJobs(q)
		first := f.paid(t, f.shop, f.a, 1)
		f.paid(t, f.shop, f.a, 1) // the same event again: no second message
		if ran, err := q.WorkOne(ctx); !ran || err != nil {
			t.Fatalf("job: ran=%v err=%v", ran, err)
		}
		if m := f.message(t, f.shop, first); m.State != Sent || m.Channel != ChannelSubscription {
			t.Fatalf("first message = %+v", m)
		}
		if f.wx.count() != 1 {
			t.Fatalf("%d sends", f.wx.count())
		}
		got := f.wx.sent[0]
		if got.ToUser != "o"+strconv.FormatInt(f.a, 10) || got.Page != "pages/order/detail?id=1" ||
			got.Data["amount2"].Value != "¥99.90" || got.Data["time3"].Value != "2026-12-07 09:30" ||
			[]rune(got.Data["thing1"].Value)[19] != '…' {
			t.Fatalf("sent %+v", got)
		}
		// No acceptance left: the next one lands in the inbox.
		second := f.paid(t, f.shop, f.a, 2)
		if err := f.run(f.shop, second, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, second); m.State != Sent || m.Channel != ChannelInbox {
			t.Fatalf("second message = %+v", m)
		}
		if f.wx.count() != 1 || f.remaining(t, f.shop, f.a) != 0 {
			t.Fatalf("sends %d, remaining %d", f.wx.count(), f.remaining(t, f.shop, f.a))
		}
		inbox, err := f.s.Inbox(ctx, f.shop, f.a, 0, 20)
		if err != nil || len(inbox) != 1 || inbox[0].OrderID != 2 || !strings.Contains(inbox[0].Body, "¥99.90") || inbox[0].Read {
			t.Fatalf("inbox = %+v, %v", inbox, err)
		}
		if n, _ := f.s.Unread(ctx, f.shop, f.a); n.Unread != 1 {
			t.Fatalf("unread = %d", n.Unread)
		}
		// Another buyer or shop cannot read it.
		if _, err := f.s.MarkRead(ctx, f.shop, f.b, inbox[0].ID); !errs.Is(err, "message_not_found") {
			t.Fatalf("other buyer marks read: %v", err)
		}
		if _, err := f.s.MarkRead(ctx, f.otherShop, f.oth, inbox[0].ID); !errs.Is(err, "message_not_found") {
			t.Fatalf("other shop marks read: %v", err)
		}
		if n, err := f.s.MarkRead(ctx, f.shop, f.a, inbox[0].ID); err != nil || n.Unread != 0 {
			t.Fatalf("mark read: %+v %v", n, err)
		}
		if other, _ := f.s.Inbox(ctx, f.shop, f.b, 0, 20); len(other) != 0 {
			t.Fatalf("b sees %d messages", len(other))
		}
	})
}

func apiErr(code int) error { return &wechat.APIError{Code: code, Message: "x"} }

func TestWeChatErrorsByClass(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.setPaidTemplate(t, f.shop)
		f.accept(t, f.shop, f.a, 3)

		// 47003: dead letter, never retried, the acceptance given back.
		f.wx.errs = []error{apiErr(47003)}
		bad := f.paid(t, f.shop, f.a, 1)
		if err := f.run(f.shop, bad, 1); err != nil {
			t.Fatalf("a refusal is not retried by the queue: %v", err)
		}
		if m := f.message(t, f.shop, bad); m.State != Dead || m.ErrCode != 47003 || len(m.Log) != 1 || m.Log[0].Outcome != "refused" {
			t.Fatalf("47003 message = %+v", m)
		}
		if r := f.remaining(t, f.shop, f.a); r != 3 {
			t.Fatalf("remaining after 47003 = %d, want 3", r)
		}
		// -1 busy: retried with backoff; the acceptance stays reserved.
		f.wx.errs = []error{apiErr(-1)}
		busy := f.paid(t, f.shop, f.a, 2)
		if err := f.run(f.shop, busy, 1); !wechat.IsBusy(err) {
			t.Fatalf("busy: %v, want the error back for a retry", err)
		}
		if m := f.message(t, f.shop, busy); m.State != Sending || m.ErrCode != -1 {
			t.Fatalf("busy message = %+v", m)
		}
		if err := f.run(f.shop, busy, 2); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, busy); m.State != Sent || len(m.Log) != 2 {
			t.Fatalf("after the retry = %+v", m)
		}
		if r := f.remaining(t, f.shop, f.a); r != 2 || f.wx.count() != 1 {
			t.Fatalf("remaining %d sends %d, want 2 and 1", r, f.wx.count())
		}
		// 43101: WeChat has no acceptance: dead, counter to 0.
		f.wx.errs = []error{apiErr(43101)}
		refused := f.paid(t, f.shop, f.a, 3)
		if err := f.run(f.shop, refused, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, refused); m.State != Dead || m.ErrCode != 43101 {
			t.Fatalf("43101 message = %+v", m)
		}
		if r := f.remaining(t, f.shop, f.a); r != 0 {
			t.Fatalf("remaining after 43101 = %d", r)
		}
		dead, err := f.s.DeadLetters(ctx, f.shop, 0, 20)
		if err != nil || len(dead) != 2 || dead[0].ID != refused {
			t.Fatalf("dead letters = %+v %v", dead, err)
		}
		if other, _ := f.s.DeadLetters(ctx, f.otherShop, 0, 20); len(other) != 0 {
			t.Fatalf("other shop sees %d dead letters", len(other))
		}
		// Staff retry: the channel is chosen anew, the inbox now.
		if _, err := f.s.Retry(ctx, f.otherShop, refused); !errs.Is(err, "message_not_found") {
			t.Fatalf("retry from another shop: %v", err)
		}
		if _, err := f.s.Retry(ctx, f.shop, busy); !errs.Is(err, "message_not_dead") {
			t.Fatalf("retry of a sent message: %v", err)
		}
		if _, err := f.s.Retry(ctx, f.shop, refused); err != nil {
			t.Fatal(err)
		}
		if err := f.run(f.shop, refused, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, refused); m.State != Sent || m.Channel != ChannelInbox {
			t.Fatalf("retried message = %+v", m)
		}
	})
}

// A send with no answer, then 43101 on the retry: the first one delivered.
func TestResendAfterUnknownOutcome(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.setPaidTemplate(t, f.shop)
		f.accept(t, f.shop, f.a, 1)
		f.wx.errs = []error{context.DeadlineExceeded, apiErr(43101)}
		id := f.paid(t, f.shop, f.a, 1)
		if err := f.run(f.shop, id, 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("first run: %v", err)
		}
		if err := f.run(f.shop, id, 2); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, id); m.State != Sent || m.ErrCode != 43101 {
			t.Fatalf("message = %+v", m)
		}
		// Giving up after the last attempt dead-letters.
		f.accept(t, f.shop, f.a, 1)
		f.wx.errs = []error{apiErr(-1)}
		last := f.paid(t, f.shop, f.a, 2)
		if err := f.run(f.shop, last, maxAttempts); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, last); m.State != Dead || !strings.Contains(m.Reason, "gave up") {
			t.Fatalf("last attempt = %+v", m)
		}
	})
}

// Keywords WeChat would refuse are caught before sending: dead letter,
// acceptance kept.
func TestBadKeywordsRefusedBeforeSending(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		_, err := f.s.SetTemplate(ctx, f.shop, TemplateInput{Kind: OrderPaid, TemplateID: "TPL_PAID",
			Fields: map[string]string{"phrase1": "order.title"}})
		if err != nil {
			t.Fatal(err)
		}
		f.accept(t, f.shop, f.a, 1)
		id := f.paid(t, f.shop, f.a, 1)
		if err := f.run(f.shop, id, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, id); m.State != Dead || m.ErrCode != 47003 || !strings.Contains(m.Reason, "phrase1") {
			t.Fatalf("message = %+v", m)
		}
		if f.wx.count() != 0 || f.remaining(t, f.shop, f.a) != 1 {
			t.Fatalf("sends %d remaining %d", f.wx.count(), f.remaining(t, f.shop, f.a))
		}
		// An order that is gone is dead-lettered too.
		gone := f.paid(t, f.shop, f.a, 1000)
		if err := f.run(f.shop, gone, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, gone); m.State != Dead {
			t.Fatalf("gone order message = %+v", m)
		}
	})
}

// Many workers, few acceptances: each acceptance is used once, every
// message is delivered once.
func TestConcurrentSendsUseEachAcceptanceOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.setPaidTemplate(t, f.shop)
		f.accept(t, f.shop, f.a, 3)
		const n = 8
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = f.paid(t, f.shop, f.a, int64(i+1))
		}
		var wg sync.WaitGroup
		for _, id := range ids {
			for range 2 { // two workers race on each message
				wg.Add(1)
				go func() {
					defer wg.Done()
					// The loser of a race for a message in flight is told to come back later.
					if err := f.run(f.shop, id, 1); err != nil && !errors.As(err, new(jobs.RetryLater)) {
						t.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		if f.wx.count() != 3 || f.remaining(t, f.shop, f.a) != 0 {
			t.Fatalf("sends %d remaining %d, want 3 and 0", f.wx.count(), f.remaining(t, f.shop, f.a))
		}
		for _, id := range ids {
			if m := f.message(t, f.shop, id); m.State != Sent {
				t.Fatalf("message %d = %+v", id, m)
			}
		}
		inbox, _ := f.s.Inbox(context.Background(), f.shop, f.a, 0, 100)
		if len(inbox) != n-3 {
			t.Fatalf("inbox has %d, want %d", len(inbox), n-3)
		}
		var sendLog int
		f.d.QueryRow(context.Background(), `SELECT COUNT(*) FROM msg_acceptance_log WHERE shop_id = ? AND source = 'send'`, f.shop).Scan(&sendLog)
		if sendLog != 3 {
			t.Fatalf("%d send rows in the ledger log", sendLog)
		}
	})
}

func TestReportsPushesAndNext(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.setPaidTemplate(t, f.shop)
		if _, err := f.s.SetTemplate(ctx, f.shop, TemplateInput{Kind: OrderShipped, TemplateID: "TPL_SHIP",
			Fields: map[string]string{"thing1": "order.title", "character_string2": "order.tracking_no"}}); err != nil {
			t.Fatal(err)
		}
		bad := []struct {
			in   map[string]string
			code string
		}{
			{map[string]string{}, "invalid_results"},
			{map[string]string{"A": Accept, "B": Accept, "C": Accept, "D": Accept, "E": Accept, "F": Accept}, "invalid_results"},
			{map[string]string{"TPL_PAID": "yes"}, "invalid_results"},
			{map[string]string{"TPL_OTHER": Accept}, "unknown_template"},
		}
		for _, c := range bad {
			if _, err := f.s.Report(ctx, f.shop, f.a, ReportInput{Results: c.in}); !errs.Is(err, c.code) {
				t.Errorf("report %v: %v, want %s", c.in, err, c.code)
			}
		}
		// Another shop's template is unknown here.
		if _, err := f.s.Report(ctx, f.otherShop, f.oth, ReportInput{Results: map[string]string{"TPL_PAID": Accept}}); !errs.Is(err, "unknown_template") {
			t.Fatalf("other shop: %v", err)
		}
		subs, err := f.s.Report(ctx, f.shop, f.a, ReportInput{Results: map[string]string{"TPL_PAID": Accept, "TPL_SHIP": Reject}})
		if err != nil || len(subs) != 2 {
			t.Fatalf("report: %+v %v", subs, err)
		}
		next, err := f.s.Next(ctx, f.shop, f.a, nil)
		if err != nil || len(next) != 2 || next[0].TemplateID != "TPL_SHIP" || next[1].Remaining != 1 {
			t.Fatalf("next = %+v %v", next, err)
		}
		if next, _ := f.s.Next(ctx, f.shop, f.a, []string{OrderPaid}); len(next) != 1 || next[0].TemplateID != "TPL_PAID" {
			t.Fatalf("next paid = %+v", next)
		}
		if _, err := f.s.Next(ctx, f.shop, f.a, []string{"nope"}); !errs.Is(err, "unknown_kind") {
			t.Fatalf("unknown kind: %v", err)
		}
		openid := "o" + strconv.FormatInt(f.a, 10)
		// A popup push (List as an array) is logged, not counted.
		popup := pushOf(t, PopupEvent, openid, `[{"TemplateId":"TPL_PAID","SubscribeStatusString":"accept","PopupScene":"0"},
			{"TemplateId":"TPL_SHIP","SubscribeStatusString":"reject","PopupScene":"0"}]`, true)
		if err := f.s.PopupPushed(ctx, f.shop, popup); err != nil {
			t.Fatal(err)
		}
		if r := f.remaining(t, f.shop, f.a); r != 1 {
			t.Fatalf("remaining after the popup push = %d, want 1 (the client report counted it)", r)
		}
		// A change push in plain mode is ignored; in safe mode (List as
		// one object) it zeroes the template.
		change := `{"TemplateId":"TPL_PAID","SubscribeStatusString":"reject"}`
		if err := f.s.ChangePushed(ctx, f.shop, pushOf(t, ChangeEvent, openid, change, false)); err != nil || f.remaining(t, f.shop, f.a) != 1 {
			t.Fatalf("plain change push: %v, remaining %d", err, f.remaining(t, f.shop, f.a))
		}
		if err := f.s.ChangePushed(ctx, f.shop, pushOf(t, ChangeEvent, openid, change, true)); err != nil || f.remaining(t, f.shop, f.a) != 0 {
			t.Fatalf("change push: %v, remaining %d", err, f.remaining(t, f.shop, f.a))
		}
		// Pushes about strangers or without a list change nothing.
		if err := f.s.ChangePushed(ctx, f.shop, pushOf(t, ChangeEvent, "ostranger", change, true)); err != nil {
			t.Fatal(err)
		}
		if err := f.s.PopupPushed(ctx, f.shop, wechat.Push{Event: PopupEvent, Encrypted: true, Message: json.RawMessage(`{"List":7}`)}); err != nil {
			t.Fatal(err)
		}
	})
}

func pushOf(t *testing.T, event, openid, list string, encrypted bool) wechat.Push {
	t.Helper()
	msg := fmt.Sprintf(`{"ToUserName":"gh_x","FromUserName":%q,"CreateTime":1700000000,"MsgType":"event","Event":%q,"List":%s}`, openid, event, list)
	if !json.Valid([]byte(msg)) {
		t.Fatalf("bad test push %s", msg)
	}
	return wechat.Push{MsgType: "event", Event: event, FromUserName: openid, Encrypted: encrypted, Message: json.RawMessage(msg)}
}

// Each report of an accept counts, concurrently too, up to the cap.
func TestConcurrentReports(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		f.setPaidTemplate(t, f.shop)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.s.Report(context.Background(), f.shop, f.a, ReportInput{Results: map[string]string{"TPL_PAID": Accept}}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if r := f.remaining(t, f.shop, f.a); r != 8 {
			t.Fatalf("remaining = %d, want 8", r)
		}
	})
}

func TestTemplateValidationAndPreview(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		bad := []TemplateInput{
			{Kind: "nope", TemplateID: "T", Fields: map[string]string{"thing1": "order.title"}},
			{Kind: OrderPaid, TemplateID: "", Fields: map[string]string{"thing1": "order.title"}},
			{Kind: OrderPaid, TemplateID: "T T", Fields: map[string]string{"thing1": "order.title"}},
			{Kind: OrderPaid, TemplateID: "T", Fields: map[string]string{}},
			{Kind: OrderPaid, TemplateID: "T", Fields: map[string]string{"bogus1": "order.title"}},
			{Kind: OrderPaid, TemplateID: "T", Fields: map[string]string{"thing1": "order.secret"}},
			{Kind: OrderPaid, TemplateID: "T", Fields: map[string]string{"thing1": "text:"}},
			{Kind: OrderPaid, TemplateID: "T", Page: "https://evil", Fields: map[string]string{"thing1": "order.title"}},
		}
		for _, in := range bad {
			if _, err := f.s.SetTemplate(ctx, f.shop, in); !errs.Is(err, "invalid_fields") {
				t.Errorf("SetTemplate(%+v) = %v, want invalid_fields", in, err)
			}
		}
		p, err := f.s.PreviewTemplate(ctx, f.shop, PreviewInput{TemplateInput: TemplateInput{Kind: OrderPaid, TemplateID: "T",
			Fields: map[string]string{"thing1": "order.title", "amount2": "order.amount", "phrase3": "order.status",
				"phrase4": "order.title", "thing5": "text:感谢惠顾 🎉"}}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Data["amount2"] != "¥128.50" || p.Data["phrase3"] != "已支付" || p.Data["thing5"] != "感谢惠顾 🎉" ||
			!strings.HasSuffix(p.Data["thing1"], "…") || len(p.Problems) != 1 || p.Problems[0].Key != "phrase4" {
			t.Fatalf("preview = %+v", p)
		}
		if _, err := f.s.PreviewTemplate(ctx, f.shop, PreviewInput{OrderID: 1000, TemplateInput: TemplateInput{Kind: OrderPaid,
			TemplateID: "T", Fields: map[string]string{"thing1": "order.title"}}}); !errs.Is(err, "order_not_found") {
			t.Fatalf("preview with an unknown order: %v", err)
		}
		list, err := f.s.Templates(ctx, f.shop)
		if err != nil || len(list) != len(Kinds) || list[0].TemplateID != "" || list[0].UpdatedAt != nil {
			t.Fatalf("templates = %+v %v", list, err)
		}
	})
}

// A message whose job ended without settling it is queued again by the
// sweep, once however often the sweep runs.
func TestSweepRequeuesStuckMessages(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.setPaidTemplate(t, f.shop) // a channel besides the inbox: the messages wait for their jobs
		stuck := f.paid(t, f.shop, f.a, 1)
		fresh := f.paid(t, f.shop, f.b, 2)
		if _, err := d.Exec(ctx, `DELETE FROM jobs`); err != nil { // as if the jobs had ended
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour).UnixMilli()
		if _, err := d.Exec(ctx, `UPDATE messages SET updated_at = ? WHERE id = ?`, old, stuck); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := f.s.sweep(ctx, jobs.Job{}); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = ? AND unique_key = ?`, SendKind,
			"messaging:"+strconv.FormatInt(stuck, 10)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("jobs for the stuck message: %d %v", n, err)
		}
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE unique_key = ?`, "messaging:"+strconv.FormatInt(fresh, 10)).Scan(&n); err != nil || n != 0 {
			t.Fatalf("jobs for the fresh message: %d %v", n, err)
		}
		if err := f.run(f.shop, stuck, 1); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, stuck); m.State != Sent {
			t.Fatalf("swept message = %+v", m)
		}
	})
}

// A worker that died between claiming and settling: its attempt blocks
// others for a while (it may still be calling WeChat), then is taken over
// with the acceptance it had reserved.
func TestDeadWorkersAttemptIsTakenOver(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		f.setPaidTemplate(t, f.shop)
		f.accept(t, f.shop, f.a, 1)
		id := f.paid(t, f.shop, f.a, 1)
		m, err := f.s.load(ctx, f.shop, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.claim(ctx, m); err != nil { // the worker claims, then dies
			t.Fatal(err)
		}
		var later jobs.RetryLater
		if err := f.run(f.shop, id, 2); !errors.As(err, &later) || later.After <= 0 || later.After > takeover {
			t.Fatalf("run during the attempt: %v", err)
		}
		if f.wx.count() != 0 {
			t.Fatalf("sent %d during another's attempt", f.wx.count())
		}
		f.s.SetClock(func() time.Time { return time.Now().Add(takeover + time.Second) })
		if err := f.run(f.shop, id, 3); err != nil {
			t.Fatal(err)
		}
		if m := f.message(t, f.shop, id); m.State != Sent || f.wx.count() != 1 || f.remaining(t, f.shop, f.a) != 0 {
			t.Fatalf("after the takeover: %+v, sends %d", m, f.wx.count())
		}
	})
}
