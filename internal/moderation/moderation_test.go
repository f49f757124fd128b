package moderation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/moderation"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/shop"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeWeChat answers msg_sec_check from a table.
type fakeWeChat struct {
	calls   atomic.Int32
	suggest string
	err     error
}

func (f *fakeWeChat) SecCheck(ctx context.Context, shopID, memberID int64, scene int, text string) (string, int, error) {
	f.calls.Add(1)
	return f.suggest, 20001, f.err
}

type env struct {
	t   *testing.T
	ctx context.Context
	d   *db.DB
	svc *moderation.Service
	wx  *fakeWeChat
}

func newEnv(t *testing.T, d *db.DB) *env {
	e := &env{t: t, ctx: t.Context(), d: d, wx: &fakeWeChat{suggest: "pass"}}
	e.svc = e.newService()
	return e
}

// newService is another process's service on the same database.
func (e *env) newService() *moderation.Service {
	s := moderation.NewService(e.d, e.wx, quiet)
	if err := s.Load(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return s
}

var counter atomic.Int64

func (e *env) shop() int64 {
	e.t.Helper()
	box, _ := secretbox.New(make([]byte, 32))
	n := counter.Add(1)
	sh, err := shop.NewService(e.d, box).Create(e.ctx, shop.CreateInput{Name: fmt.Sprintf("店%d", n),
		AppID: fmt.Sprintf("wx%016x", n+1000), SubjectType: shop.Enterprise})
	if err != nil {
		e.t.Fatal(err)
	}
	return sh.ID
}

func (e *env) member(shopID int64) int64 {
	e.t.Helper()
	var id int64
	err := e.d.QueryRow(e.ctx, `INSERT INTO members (shop_id, openid, unionid, created_at, updated_at) VALUES (?, ?, '', 0, 0) RETURNING id`,
		shopID, fmt.Sprintf("o%d", counter.Add(1))).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) rule(shopID int64, scope, word, level string) moderation.Rule {
	e.t.Helper()
	r, err := e.svc.AddRule(e.ctx, shopID, moderation.NewRule{Scope: scope, Word: word, Category: "test", Level: level})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func verdict(s *moderation.Service, shopID int64, text string) string {
	v, _ := s.Check(shopID, text)
	return v
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !errs.Is(err, code) {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func TestRuleChangesReachEveryInstance(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		other := e.newService()
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		go other.Run(ctx, 20*time.Millisecond)
		sh := e.shop()
		r := e.rule(0, moderation.ScopeBase, "代开发票", "block")
		if v := verdict(e.svc, sh, "专业代開發票"); v != "block" {
			t.Fatalf("own instance: %s", v)
		}
		waitFor(t, func() bool { return verdict(other, sh, "代开发票") == "block" })
		if err := e.svc.DeleteRule(e.ctx, 0, moderation.ScopeBase, r.ID); err != nil {
			t.Fatal(err)
		}
		if v := verdict(e.svc, sh, "代开发票"); v != "pass" {
			t.Fatalf("after delete: %s", v)
		}
		waitFor(t, func() bool { return verdict(other, sh, "代开发票") == "pass" })
		e.rule(sh, moderation.ScopeShop, "山寨", "review")
		waitFor(t, func() bool { return verdict(other, sh, "山寨货") == "review" })
	})
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("the other instance did not pick up the change within 3 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestScopes(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		a, b := e.shop(), e.shop()
		e.rule(0, moderation.ScopeBase, "大麻", "block")
		e.rule(0, moderation.ScopeOperator, "刷单", "review")
		e.rule(a, moderation.ScopeShop, "竞品", "review")
		e.rule(a, moderation.ScopeShop, "大麻花", "allow")
		for _, c := range []struct {
			shop       int64
			text, want string
		}{
			{a, "出售大麻", "block"}, {b, "出售大麻", "block"},
			{a, "天津大麻花", "pass"}, {b, "天津大麻花", "block"}, // A's allow-list is A's
			{a, "刷单返现", "review"}, {b, "刷单返现", "review"},
			{a, "竞品链接", "review"}, {b, "竞品链接", "pass"},
		} {
			if got := verdict(e.svc, c.shop, c.text); got != c.want {
				t.Errorf("shop %d %q = %s, want %s", c.shop, c.text, got, c.want)
			}
		}
		rules, err := e.svc.ListRules(e.ctx, b, moderation.ScopeShop, 0, 0)
		if err != nil || len(rules) != 0 {
			t.Fatalf("shop B sees %v %v", rules, err)
		}
		rules, _ = e.svc.ListRules(e.ctx, a, "", 0, 0)
		if len(rules) != 2 {
			t.Fatalf("shop A rules %v", rules)
		}
		wantCode(t, e.svc.DeleteRule(e.ctx, b, moderation.ScopeShop, rules[0].ID), "rule_not_found")
		_, err = e.svc.AddRule(e.ctx, 0, moderation.NewRule{Word: "x", Category: "c", Level: "block"})
		wantCode(t, err, "shop_required")
		_, err = e.svc.AddRule(e.ctx, a, moderation.NewRule{Word: "@@", Category: "c", Level: "block"})
		wantCode(t, err, "invalid_rule")
	})
}

func TestImportExport(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		sh := e.shop()
		text := "# 规则\n微信\tads\treview\tpinyin,initials\n代开发票\tfraud\tblock\n"
		res, err := e.svc.Import(e.ctx, sh, "shop", "text", false, strings.NewReader(text))
		if err != nil || res.Rules != 2 {
			t.Fatalf("import: %+v %v", res, err)
		}
		if verdict(e.svc, sh, "加 wei xin") != "review" || verdict(e.svc, sh, "代开发票") != "block" {
			t.Fatal("imported rules not in effect")
		}
		_, err = e.svc.Import(e.ctx, sh, "shop", "text", false, strings.NewReader("好\tads\tblock\n坏\n@@\tads\tblock\n"))
		var ee *errs.Error
		if !errors.As(err, &ee) || ee.Code != "invalid_rule_file" || ee.Fields["line 2"] == "" || ee.Fields["line 3"] == "" || len(ee.Fields) != 2 {
			t.Fatalf("bad file: %v %+v", err, ee)
		}
		if verdict(e.svc, sh, "好") != "pass" {
			t.Fatal("a failed import changed the rules")
		}
		var out strings.Builder
		if err := e.svc.Export(e.ctx, sh, "shop", "csv", &out); err != nil {
			t.Fatal(err)
		}
		if out.String() != "word,category,level,forms\n微信,ads,review,\"pinyin,initials\"\n代开发票,fraud,block,\n" {
			t.Fatalf("CSV export: %q", out.String())
		}
		res, err = e.svc.Import(e.ctx, sh, "shop", "csv", true, strings.NewReader("word,category,level\n代开发票,fraud,review\n"))
		if err != nil || !res.Replaced {
			t.Fatal(err)
		}
		out.Reset()
		_ = e.svc.Export(e.ctx, sh, "shop", "text", &out)
		if out.String() != "代开发票\tfraud\treview\n" || verdict(e.svc, sh, "微信") != "pass" {
			t.Fatalf("after replace: %q", out.String())
		}
		_, err = e.svc.Import(e.ctx, sh, "shop", "xml", false, strings.NewReader("x"))
		wantCode(t, err, "invalid_format")
	})
}

func TestSubmitAndReviewQueue(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		sh := e.shop()
		m := e.member(sh)
		e.rule(0, moderation.ScopeBase, "傻逼", "block")
		e.rule(0, moderation.ScopeBase, "加微信", "review")
		ok, err := e.svc.Submit(e.ctx, sh, m, moderation.NewItem{Kind: "comment", Target: "product:1", Text: "质量很好，五星好评"})
		if err != nil || ok.Status != moderation.Published {
			t.Fatalf("pass: %+v %v", ok, err)
		}
		_, err = e.svc.Submit(e.ctx, sh, m, moderation.NewItem{Kind: "comment", Text: "卖家是傻 逼"})
		wantCode(t, err, "content_blocked")
		if errs.As(err).Kind != errs.Unprocessable {
			t.Fatalf("kind %v", errs.As(err).Kind)
		}
		held, err := e.svc.Submit(e.ctx, sh, m, moderation.NewItem{Kind: "post", Text: "有问题加微信聊"}) // reviews need a buyer: see server.TestReviewsOnlyFromBuyersOfTheProduct
		if err != nil || held.Status != moderation.Pending || len(held.Matches) != 1 || held.Matches[0].Start != 9 {
			t.Fatalf("review: %+v %v", held, err)
		}
		queue, _ := e.svc.ListItems(e.ctx, sh, moderation.ItemQuery{Status: moderation.Pending})
		if len(queue) != 1 || queue[0].ID != held.ID {
			t.Fatalf("queue %+v", queue)
		}
		if it, err := e.svc.Approve(e.ctx, sh, held.ID, "staff:1"); err != nil || it.Status != moderation.Published {
			t.Fatalf("approve %+v %v", it, err)
		}
		_, err = e.svc.Approve(e.ctx, sh, held.ID, "staff:1")
		wantCode(t, err, "content_state")
		_, err = e.svc.Reject(e.ctx, sh, ok.ID, "staff:1", "")
		wantCode(t, err, "reason_required")
		if it, err := e.svc.Reject(e.ctx, sh, ok.ID, "staff:1", "广告引流"); err != nil || it.Status != moderation.Rejected || it.RejectReason != "广告引流" {
			t.Fatalf("reject %+v %v", it, err)
		}
		held2, _ := e.svc.Submit(e.ctx, sh, m, moderation.NewItem{Kind: "comment", Text: "加微信领红包"})
		if it, err := e.svc.Ban(e.ctx, sh, held2.ID, "staff:2", moderation.BanInput{Days: 7, Reason: "反复引流"}); err != nil || it.Status != moderation.Rejected {
			t.Fatalf("ban %+v %v", it, err)
		}
		_, err = e.svc.Submit(e.ctx, sh, m, moderation.NewItem{Kind: "comment", Text: "你好"})
		wantCode(t, err, "member_banned")
		if _, err := e.svc.Submit(e.ctx, sh, e.member(sh), moderation.NewItem{Kind: "comment", Text: "你好"}); err != nil {
			t.Fatalf("another member is not banned: %v", err)
		}
		log, _ := e.svc.Decisions(e.ctx, sh, 0, 0)
		var actions []string
		for _, d := range log {
			actions = append(actions, d.Actor+" "+d.Action)
		}
		if strings.Join(actions, ",") != "staff:2 ban,staff:2 reject,staff:1 reject,staff:1 approve" {
			t.Fatalf("decision log %q", actions)
		}
		other := e.shop()
		_, err = e.svc.Approve(e.ctx, other, held.ID, "staff:9")
		wantCode(t, err, "content_not_found")
		_, err = e.svc.Submit(e.ctx, sh, e.member(sh), moderation.NewItem{Kind: "essay", Text: "x"})
		wantCode(t, err, "invalid_fields")
	})
}

func TestWeChatCheck(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		sh := e.shop()
		m := e.member(sh)
		submit := func() (moderation.Item, error) {
			return e.svc.Submit(e.ctx, sh, m, moderation.NewItem{Kind: "comment", Text: "普通的评论"})
		}
		if _, err := submit(); err != nil || e.wx.calls.Load() != 0 {
			t.Fatalf("WeChat called while off: %v", err)
		}
		if s, err := e.svc.PutSettings(e.ctx, sh, moderation.Settings{WeChatCheck: true}); err != nil || !s.WeChatCheck {
			t.Fatal(err)
		}
		for _, c := range []struct {
			suggest string
			err     error
			status  string
		}{{"pass", nil, moderation.Published}, {"review", nil, moderation.Pending}, {"risky", nil, ""}, {"", errors.New("down"), moderation.Pending}} {
			e.wx.suggest, e.wx.err = c.suggest, c.err
			it, err := submit()
			if c.status == "" {
				wantCode(t, err, "content_blocked")
				continue
			}
			if err != nil || it.Status != c.status {
				t.Errorf("WeChat %q/%v: %+v %v", c.suggest, c.err, it, err)
			}
		}
		if e.wx.calls.Load() != 4 {
			t.Fatalf("%d calls", e.wx.calls.Load())
		}
	})
}

func TestComplaints(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		sh := e.shop()
		it, _ := e.svc.Submit(e.ctx, sh, e.member(sh), moderation.NewItem{Kind: "post", Text: "整本小说全文转载"})
		it2, _ := e.svc.Submit(e.ctx, sh, e.member(sh), moderation.NewItem{Kind: "post", Text: "自己拍的照片"})
		c, err := e.svc.FileComplaint(e.ctx, sh, moderation.NewComplaint{ItemID: it.ID, Reason: "未经授权转载我的小说", Contact: "13800000000"})
		if err != nil || c.Status != moderation.ComplaintOpen || c.Overdue || c.DueAt.Sub(c.CreatedAt) != 24*time.Hour {
			t.Fatalf("file: %+v %v", c, err)
		}
		c2, _ := e.svc.FileComplaint(e.ctx, sh, moderation.NewComplaint{ItemID: it2.ID, Reason: "这张照片是我的作品"})
		_, err = e.svc.FileComplaint(e.ctx, e.shop(), moderation.NewComplaint{ItemID: it.ID, Reason: "跨店投诉测试"})
		wantCode(t, err, "content_not_found")
		if n, err := e.svc.FlagOverdue(e.ctx); err != nil || n != 0 {
			t.Fatalf("flagged %d %v", n, err)
		}
		if _, err := e.d.Exec(e.ctx, `UPDATE moderation_complaints SET due_at = ? WHERE id = ?`, db.Now()-1, c2.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := e.svc.FlagOverdue(e.ctx); err != nil || n != 1 {
			t.Fatalf("flagged %d %v", n, err)
		}
		overdue, _ := e.svc.ListComplaints(e.ctx, sh, "", true, nil, 100)
		if len(overdue) != 1 || overdue[0].ID != c2.ID || !overdue[0].Overdue {
			t.Fatalf("overdue list %+v", overdue)
		}
		if got, err := e.svc.TakeDown(e.ctx, sh, c.ID, "staff:1", "确认侵权"); err != nil || got.Status != moderation.ComplaintTakeDown {
			t.Fatalf("take down %+v %v", got, err)
		}
		if item, _ := e.svc.GetItem(e.ctx, sh, it.ID); item.Status != moderation.Removed {
			t.Fatalf("item after take-down: %s", item.Status)
		}
		_, err = e.svc.RejectComplaint(e.ctx, sh, c.ID, "staff:1", "重复处理")
		wantCode(t, err, "complaint_closed")
		if got, err := e.svc.RejectComplaint(e.ctx, sh, c2.ID, "staff:1", "原创作品，投诉不成立"); err != nil || got.Status != moderation.ComplaintRejected || !got.Overdue {
			t.Fatalf("reject %+v %v", got, err)
		}
		_, err = e.svc.FileComplaint(e.ctx, sh, moderation.NewComplaint{ItemID: it.ID, Reason: "再次投诉已删除内容"})
		wantCode(t, err, "content_not_published")
	})
}

// TestMatchingDuringRuleChanges checks under -race that verdicts go on
// while rules are replaced.
func TestMatchingDuringRuleChanges(t *testing.T) {
	e := newEnv(t, db.OpenTest(t, db.SQLite))
	sh := e.shop()
	e.rule(0, moderation.ScopeBase, "赌博", "block")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if v := verdict(e.svc, sh, "网上赌博"); v != "block" {
					t.Errorf("verdict %s during a rule change", v)
					return
				}
			}
		}()
	}
	for i := range 20 {
		e.rule(sh, moderation.ScopeShop, fmt.Sprintf("词%d", i), "review")
	}
	close(stop)
	wg.Wait()
}
