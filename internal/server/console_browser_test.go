package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// Browser tests drive Debian's Chromium headless. They skip on machines
// without it unless KAIDIAN_BROWSER_TESTS=require (CI), where a missing
// browser fails them. KAIDIAN_CHROMIUM names another browser binary;
// KAIDIAN_SCREENSHOTS=dir saves screenshots of the main screens there.
const browserEnv = "KAIDIAN_BROWSER_TESTS"

func chromiumPath(t *testing.T) string {
	t.Helper()
	if os.Getenv(browserEnv) == "skip" {
		t.Skip(browserEnv + "=skip")
	}
	for _, p := range []string{os.Getenv("KAIDIAN_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "no Chromium found: install it (apt-get install -y chromium) or set KAIDIAN_CHROMIUM to a Chrome binary to run the admin console's browser tests"
	if os.Getenv(browserEnv) == "require" {
		t.Fatal(msg + " (" + browserEnv + "=require)")
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium tab on the test server.
type browser struct {
	t       *testing.T
	ctx     context.Context
	base    string
	shots   string
	mu      sync.Mutex
	dialogs []string // JavaScript dialogs that opened: an XSS
	console []string // console errors and CSP reports
}

func newBrowser(t *testing.T, base string) *browser {
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("headless", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1440, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// An older protocol package meets a newer browser: events it cannot
	// decode are logged, not errors of the console.
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			t.Logf("chromedp: %s", msg)
		}
	}))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base, shots: os.Getenv("KAIDIAN_SCREENSHOTS")}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(false))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.LevelError {
				b.note(string(ev.Entry.Source) + ": " + ev.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			b.note("exception: " + ev.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.note("console.error: " + strings.Join(parts, " "))
			}
		}
	})
	if err := chromedp.Run(ctx, cdplog.Enable(), runtime.Enable()); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return b
}

func (b *browser) note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console = append(b.console, s)
}

// run runs actions with a deadline, failing the test with what step failed.
func (b *browser) run(step string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var html string
		var png []byte
		_ = chromedp.Run(b.ctx, chromedp.OuterHTML("body", &html, chromedp.ByQuery), chromedp.CaptureScreenshot(&png))
		if dir := os.Getenv("KAIDIAN_BROWSER_FAILURES"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "failure.png"), png, 0o644)
		}
		if len(html) > 3000 {
			html = html[:3000]
		}
		b.t.Fatalf("%s: %v\nconsole: %v\npage: %s", step, err, b.console, html)
	}
}

// fill types text into the input of the element matching sel (an input,
// or a component whose first input or textarea it is) the way a user's
// typing ends: input, change, blur.
func fill(sel, text string) chromedp.Action {
	js := fmt.Sprintf(`(() => {
		let el = document.querySelector(%q);
		if (!el) throw new Error('no element ' + %q);
		if (!/^(INPUT|TEXTAREA)$/.test(el.tagName)) el = el.querySelector('input, textarea');
		el.focus();
		el.value = %q;
		el.dispatchEvent(new Event('input', { bubbles: true }));
		el.dispatchEvent(new Event('change', { bubbles: true }));
		el.blur();
		el.dispatchEvent(new FocusEvent('blur')); // a headless page may have no focus to lose
		return true;
	})()`, sel, sel, text)
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var ok bool
		return chromedp.Evaluate(js, &ok).Do(ctx)
	})
}

// clickText clicks the first visible element matching sel whose text
// contains text.
func clickText(sel, text string) chromedp.Action {
	js := fmt.Sprintf(`(() => {
		const el = [...document.querySelectorAll(%q)].find((e) => e.offsetParent !== null && e.textContent.includes(%q));
		if (!el) return false;
		el.click();
		return true;
	})()`, sel, text)
	return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(10*time.Second))
}

// pick opens the select inside the element matching sel (again, until its
// options are there) and clicks the option (an item matching item) whose
// text contains text.
func pick(sel, item, text string) chromedp.Action {
	js := fmt.Sprintf(`(() => {
		const opt = [...document.querySelectorAll(%q)].find((e) => e.offsetParent !== null && e.textContent.includes(%q));
		if (opt) { opt.click(); return true; }
		const input = document.querySelector(%q + ' [role=combobox]');
		if (input && input.getAttribute('aria-expanded') !== 'true') document.querySelector(%q + ' .el-select__wrapper').click();
		return false;
	})()`, item, text, sel, sel)
	return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(200*time.Millisecond))
}

// click clicks the element matching sel once it is there (a DOM click, so a
// fading loading mask cannot swallow it).
func click(sel string) chromedp.Action {
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false; el.click(); return true; })()`, sel)
	return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(10*time.Second))
}

// waitJS waits until the JavaScript expression is truthy.
func waitJS(expr string) chromedp.Action {
	return chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(10*time.Second))
}

func (b *browser) screenshot(name string) {
	if b.shots == "" {
		return
	}
	var png []byte
	b.run("screenshot "+name, chromedp.Sleep(300*time.Millisecond), chromedp.CaptureScreenshot(&png))
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) text(sel string) string {
	var s string
	b.run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

// login signs in through the login screen and waits for the layout.
func (b *browser) login(user, password string) {
	b.run("log in as "+user,
		chromedp.Navigate(b.base+"/admin/login"),
		chromedp.WaitVisible(`[data-test=login-submit]`, chromedp.ByQuery),
		fill(`[data-test=username]`, user), fill(`[data-test=password]`, password),
		click(`[data-test=login-submit]`),
		chromedp.WaitVisible(`.layout-aside`, chromedp.ByQuery))
}

const xssTitle = `E2E新款衬衫 <img src=x onerror=alert(1)>`

// TestConsoleInARealBrowser is the walk through the console: log in,
// create a product with a 2×3 SKU grid, find it in the mini-program search,
// pay an order for it through the API and the WeChat Pay sandbox, ship it
// and refund part of it in the console, and see the dashboard change. Text
// typed by users never runs as script, and the first screen's JavaScript
// stays within its budget.
func TestConsoleInARealBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail where required) before starting a server
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise")
	e.enablePay(op, a, paysandbox.KeyModeCertificate)
	b := newBrowser(t, e.ts.URL)

	// A cold load of the first screen, timed by the Navigation Timing API.
	var perf struct {
		Interactive float64 `json:"interactive"` // the login form is on screen and wired
		DOMContent  float64 `json:"dom_content"`
		Load        float64 `json:"load"`
		JSBytes     float64 `json:"js_bytes"` // bytes of JavaScript on the wire (gzip)
		JSFiles     int     `json:"js_files"`
	}
	// Its time is logged, not asserted: tests share the machine (CI runs
	// packages in parallel, with -race), so a time budget here would fail on
	// load, not on a slower console; docs/benchmarks.md measures the time.
	// What the console sends is deterministic and has a budget.
	b.run("cold load", network.ClearBrowserCache(), chromedp.Navigate(e.ts.URL+"/admin/"),
		chromedp.WaitVisible(`[data-test=login-submit]`, chromedp.ByQuery),
		chromedp.Evaluate(`(() => {
			const n = performance.getEntriesByType('navigation')[0];
			const js = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.js'));
			return { interactive: performance.now(), dom_content: n.domContentLoadedEventEnd, load: n.loadEventEnd,
				js_bytes: js.reduce((s, r) => s + r.encodedBodySize, 0), js_files: js.length };
		})()`, &perf))
	t.Logf("console cold load: first screen interactive %.0f ms, DOMContentLoaded %.0f ms, load %.0f ms, %d JS files, %.1f KB of JS (gzip)",
		perf.Interactive, perf.DOMContent, perf.Load, perf.JSFiles, perf.JSBytes/1024)
	if perf.JSBytes == 0 || perf.JSBytes > 500*1024 {
		t.Errorf("the first screen loads %.0f bytes of JavaScript (budget 500 KB gzipped)", perf.JSBytes)
	}
	b.screenshot("login")

	// A wrong password is shown on the form.
	b.run("wrong password", fill(`[data-test=username]`, "owner_"+a.appid), fill(`[data-test=password]`, "nope-nope-1"),
		click(`[data-test=login-submit]`), chromedp.WaitVisible(`[data-test=login-error]`, chromedp.ByQuery))

	// The owner logs in; the cookie is HttpOnly, so scripts cannot read it.
	b.login("owner_"+a.appid, "owner-pass-1")
	var cookies string
	b.run("cookies", chromedp.Evaluate(`document.cookie`, &cookies))
	if strings.Contains(cookies, "kaidian_admin=") || !strings.Contains(cookies, "kaidian_csrf=") {
		t.Fatalf("document.cookie = %q: the session cookie must be HttpOnly, the CSRF cookie readable", cookies)
	}
	// The owner's menu has no operator screens.
	var menu string
	b.run("menu", chromedp.Text(`.layout-aside`, &menu, chromedp.ByQuery))
	if strings.Contains(menu, "店铺管理") || !strings.Contains(menu, "商品列表") || !strings.Contains(menu, "员工账号") {
		t.Fatalf("owner's menu: %q", menu)
	}
	// A cold load of the dashboard, the first screen after login: its charts
	// drawn from the API's figures, with the browser cache emptied.
	var dash struct {
		Interactive float64 `json:"interactive"`
		JSBytes     float64 `json:"js_bytes"`
		JSFiles     int     `json:"js_files"`
	}
	b.run("dashboard", network.ClearBrowserCache(), chromedp.Navigate(e.ts.URL+"/admin/dashboard"),
		waitJS(`document.querySelector('[data-today=gmv]') && !document.querySelector('.el-loading-mask') && document.querySelector('canvas')`),
		chromedp.Evaluate(`(() => {
			const js = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.js'));
			return { interactive: performance.now(), js_bytes: js.reduce((s, r) => s + r.encodedBodySize, 0), js_files: js.length };
		})()`, &dash))
	t.Logf("dashboard cold load: charts drawn at %.0f ms, %d JS files, %.1f KB of JS (gzip)", dash.Interactive, dash.JSFiles, dash.JSBytes/1024)
	// The budget is the first screen's (above); the dashboard's time is
	// recorded, and only its JavaScript is held to the 500 KB.
	if dash.JSBytes > 500*1024 {
		t.Errorf("the dashboard loads %.0f bytes of JavaScript (budget 500 KB gzipped)", dash.JSBytes)
	}
	gmvBefore := b.text(`[data-today=gmv]`)

	// A product with 颜色 × 尺码 = 2 × 3 SKUs, named to tempt an XSS.
	b.run("new product",
		chromedp.Navigate(e.ts.URL+"/admin/products/new"),
		chromedp.WaitVisible(`[data-test=save-product]`, chromedp.ByQuery),
		fill(`[data-test=title]`, xssTitle),
		pick(`[data-test=category]`, `.el-tree-node__content`, "甲分类"),
		click(`[data-test=add-spec]`),
		fill(`[data-test=spec-name-0]`, "颜色"), fill(`[data-test=spec-values-0]`, "红,蓝"),
		click(`[data-test=add-spec]`),
		fill(`[data-test=spec-name-1]`, "尺码"), fill(`[data-test=spec-values-1]`, "S, M, L"),
		fill(`[data-test=batch-price]`, "88"), fill(`[data-test=batch-stock]`, "20"),
		click(`[data-test=batch-apply]`),
		waitJS(`document.querySelectorAll('[data-test=sku-grid] .el-table__body tr').length === 6`),
		fill(`[data-test=sku-code-0]`, "E2E-RED-S"),
		// The description in the rich-text editor: typed, selected, made bold.
		chromedp.SendKeys(`[data-test=rich-box]`, "加厚面料", chromedp.ByQuery),
		chromedp.Evaluate(`(() => { const b = document.querySelector('[data-test=rich-box]'); const r = document.createRange();
			r.selectNodeContents(b); const s = getSelection(); s.removeAllRanges(); s.addRange(r);
			document.querySelector('[data-test=rich-text] .rich-bar button').dispatchEvent(new MouseEvent('mousedown', { bubbles: true })); })()`, nil),
	)
	// The API's error about one SKU shows under that SKU's cell.
	b.run("price too high", fill(`[data-test=sku-price-4]`, "2000000"), click(`[data-test=save-product]`),
		waitJS(`(() => { const c = document.querySelector('[data-test=sku-price-4]').closest('td'); return c && c.querySelector('.field-error'); })()`),
		fill(`[data-test=sku-price-4]`, "88"))
	// A picture uploaded from the images field lands in the list as this server's media URL.
	picture := filepath.Join(t.TempDir(), "photo.png")
	if err := os.WriteFile(picture, testPNG(t, 77), 0o600); err != nil {
		t.Fatal(err)
	}
	b.run("upload image", chromedp.SetUploadFiles(`[data-test=image-file]`, []string{picture}, chromedp.ByQuery),
		waitJS(`[...document.querySelectorAll('textarea')].some((x) => x.value.includes('/media/shop/'))`))
	b.screenshot("product-editor")
	var productURL string
	b.run("save product", click(`[data-test=save-product]`),
		waitJS(`/\/admin\/products\/\d+$/.test(location.pathname)`), chromedp.Location(&productURL))
	var productID int64
	fmt.Sscanf(productURL[strings.LastIndex(productURL, "/")+1:], "%d", &productID)
	p := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/products/%d", productID), nil)
	skus := p["skus"].([]any)
	if images, _ := p["images"].([]any); len(images) != 1 || !strings.Contains(fmt.Sprint(images[0]), e.ts.URL+"/media/shop/") {
		t.Fatalf("the uploaded picture is not among the product's images: %v", p["images"])
	}
	if p["title"] != xssTitle || len(skus) != 6 || skus[0].(map[string]any)["price"] != float64(8800) || skus[0].(map[string]any)["code"] != "E2E-RED-S" ||
		p["description"] != "<b>加厚面料</b>" {
		t.Fatalf("the saved product: %v", p)
	}

	// Editing it: the editor loads the SKUs; a new price for one is saved
	// onto the same SKU (its id kept), the others unchanged.
	b.run("edit product", chromedp.Navigate(productURL), waitJS(`document.querySelectorAll('[data-test=sku-grid] .el-table__body tr').length === 6`),
		waitJS(`document.querySelector('[data-test=sku-code-0] input, input[data-test=sku-code-0]') && (document.querySelector('input[data-test=sku-code-0]') || document.querySelector('[data-test=sku-code-0] input')).value === 'E2E-RED-S'`),
		fill(`[data-test=sku-price-5]`, "99.5"), click(`[data-test=save-product]`),
		waitJS(`document.querySelector('.el-message--success') !== null`))
	p2 := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/products/%d", productID), nil)
	skus2 := p2["skus"].([]any)
	if len(skus2) != 6 || skus2[5].(map[string]any)["price"] != float64(9950) || skus2[5].(map[string]any)["id"] != skus[5].(map[string]any)["id"] ||
		skus2[0].(map[string]any)["price"] != float64(8800) {
		t.Fatalf("after the edit: %v", skus2)
	}

	// The product list shows the title as text.
	b.run("products", chromedp.Navigate(e.ts.URL+"/admin/products"), waitJS(`document.querySelectorAll('.product-title').length >= 2`))
	b.screenshot("products")
	if got := b.text(`.product-title`); got != xssTitle {
		t.Fatalf("the list shows %q", got)
	}

	// The mini program's search finds it.
	waitFor(t, "the product in the mini-program search", func() bool {
		r := e.do(caller{appid: a.appid}, "GET", "/api/v1/products?q=新款衬衫", nil)
		return r.status == 200 && strings.Contains(r.String(), fmt.Sprintf(`"id":%d`, productID))
	})

	// A buyer orders two of a SKU and pays through the WeChat Pay sandbox.
	skuID := int64(skus[1].(map[string]any)["id"].(float64))
	orderID := e.buyNow(a.member, skuID, 2)
	if d, err := e.pay.PayWithParams(context.Background(), a.appid, e.payParams(a.member, orderID)); err != nil || !d.Delivered {
		t.Fatalf("pay: %v %+v", err, d)
	}
	waitFor(t, "the order paid", func() bool { return e.orderStatus(a.owner, orderID) == "paid" })
	o := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", orderID), nil)

	// The orders list, filtered by number, leads to the order.
	b.run("orders", chromedp.Navigate(e.ts.URL+"/admin/orders"), waitJS(`document.querySelectorAll('.order-link').length >= 2`))
	b.screenshot("orders")
	b.run("find the order", fill(`[data-test=order-no]`, o["order_no"].(string)), click(`[data-test=order-search]`),
		waitJS(`document.querySelectorAll('.order-link').length === 1`), click(`.order-link`),
		chromedp.WaitVisible(`[data-test=ship]`, chromedp.ByQuery))

	// A staff note that is a script stays text.
	b.run("note", fill(`[data-test=staff-note]`, `<script>alert(2)</script><img src=x onerror=alert(3)>`),
		click(`[data-test=save-note]`),
		waitJS(`document.querySelector('.el-message--success') !== null`))

	// Ship it.
	b.run("ship", click(`[data-test=ship]`), chromedp.WaitVisible(`[data-test=carrier]`, chromedp.ByQuery),
		fill(`[data-test=carrier]`, "顺丰速运"), fill(`[data-test=tracking-no]`, "SF1234567890"),
		// The page's buttons stay busy (disabled) until the reload after the
		// note is done; a click before that would be lost.
		waitJS(`!document.querySelector('[data-test=ship-submit]').disabled`),
		click(`[data-test=ship-submit]`),
		waitJS(`document.querySelector('[data-test=order-status-tag]').textContent.includes('已发货')`))

	// Refund part of it: 50 yuan of 176.
	b.run("refund", click(`[data-test=refund]`), chromedp.WaitVisible(`[data-test=refund-amount]`, chromedp.ByQuery),
		fill(`[data-test=refund-amount]`, "50"), fill(`[data-test=refund-reason]`, "少发一件"),
		waitJS(`!document.querySelector('[data-test=refund-submit]').disabled`),
		click(`[data-test=refund-submit]`),
		chromedp.WaitVisible(`[data-test=order-refunds]`, chromedp.ByQuery))
	b.screenshot("order-detail")
	o = e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/orders/%d", orderID), nil)
	if o["status"] != "shipped" || o["carrier"] != "顺丰速运" || !strings.Contains(fmt.Sprint(o["staff_note"]), "<script>") {
		t.Fatalf("after shipping: %v", o)
	}
	refunds := e.mustList(a.owner, fmt.Sprintf("/admin/api/v1/orders/%d/refunds", orderID))
	if len(refunds) != 1 || refunds[0]["amount"] != float64(5000) {
		t.Fatalf("refunds: %v", refunds)
	}

	// The shop's older, unpaid order is cancelled from its page.
	b.run("cancel", chromedp.Navigate(fmt.Sprintf("%s/admin/orders/%d", e.ts.URL, a.orderID)), click(`[data-test=cancel]`),
		chromedp.WaitVisible(`[data-test=cancel-reason]`, chromedp.ByQuery), fill(`[data-test=cancel-reason]`, "买家要求取消"),
		click(`[data-test=cancel-submit]`),
		waitJS(`document.querySelector('[data-test=order-status-tag]').textContent.includes('已取消')`),
		waitJS(`document.querySelector('[data-test=events]').textContent.includes('买家要求取消')`))

	// The buyer asks for 30 yuan back (with a photo URL that is a script);
	// staff approve it on the after-sales screen.
	as := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/orders/%d/aftersales", orderID),
		map[string]any{"amount": 3000, "reason": "<b>颜色不符</b>", "photos": []string{"https://img.example.com/p.jpg"}})
	b.run("approve after-sale", chromedp.Navigate(e.ts.URL+"/admin/aftersales"),
		waitJS(`document.querySelectorAll('[data-test=aftersales] .el-table__body tr').length === 1`),
		clickText(`[data-test=aftersales] button`, "同意退款"),
		clickText(`.el-message-box__btns button`, "确定"),
		waitJS(`document.querySelectorAll('[data-test=aftersales] .el-table__body tr').length === 0`))
	if got := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/aftersales/%v", as["id"]), nil); got["status"] != "approved" {
		t.Fatalf("after-sale: %v", got["status"])
	}

	// A return of one unit, approved and shipped back through the API:
	// staff confirm receipt on the screen (status filter "shipped back"),
	// and its refund goes out.
	ret := e.must(a.member, 201, "POST", fmt.Sprintf("/api/v1/orders/%d/aftersales", orderID), map[string]any{"type": "return_refund",
		"reason": "质量问题", "amount": 1000, "lines": []map[string]any{{"order_line_id": e.lineOf(a, orderID), "quantity": 1}}})
	e.must(a.owner, 200, "POST", fmt.Sprintf("/admin/api/v1/aftersales/%v/approve", ret["id"]), nil)
	e.must(a.member, 200, "POST", fmt.Sprintf("/api/v1/aftersales/%v/ship-back", ret["id"]), map[string]any{"carrier": "中通", "tracking_no": "ZT1234567"})
	b.run("receive a return", chromedp.Navigate(e.ts.URL+"/admin/aftersales"),
		clickText(`.el-radio-button`, "买家已寄回"),
		waitJS(`document.querySelectorAll('[data-test=aftersales] .el-table__body tr').length === 1`),
		waitJS(`document.querySelector('[data-test=aftersales]').textContent.includes('ZT1234567')`),
		clickText(`[data-test=aftersales] button`, "确认收货"),
		clickText(`.el-message-box__btns button`, "确定"),
		waitJS(`document.querySelectorAll('[data-test=aftersales] .el-table__body tr').length === 0`))
	if got := e.must(a.owner, 200, "GET", fmt.Sprintf("/admin/api/v1/aftersales/%v", ret["id"]), nil); got["status"] != "refunded" {
		t.Fatalf("the return after receipt: %v", got["status"])
	}

	// A state-changing request with the session cookie but no CSRF header is refused.
	var csrf string
	b.run("no CSRF header", chromedp.Evaluate(fmt.Sprintf(`fetch('/admin/api/v1/orders/%d/note', { method: 'PUT', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ note: 'forged' }) }).then((r) => r.status + ' ' + r.headers.get('content-type') ).then(async (s) => s)`, orderID), &csrf,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if !strings.HasPrefix(csrf, "403") {
		t.Fatalf("a cookie request without X-CSRF-Token: %s", csrf)
	}

	// The dashboard shows today's sale and refunds (50 + 30 + the return's 10 yuan).
	b.run("dashboard after", chromedp.Navigate(e.ts.URL+"/admin/dashboard"),
		waitJS(`document.querySelector('[data-today=gmv]') && !document.querySelector('.el-loading-mask') && document.querySelector('canvas')`))
	b.screenshot("dashboard")
	gmvAfter, refunded, paid := b.text(`[data-today=gmv]`), b.text(`[data-today=refunded]`), b.text(`[data-today=paid_orders]`)
	want := fmt.Sprintf("¥%.2f", o["paid_amount"].(float64)/100)
	if gmvAfter == gmvBefore || gmvAfter != want || refunded != "¥90.00" || paid != "1" {
		t.Fatalf("dashboard: GMV %s → %s (want %s), refunded %s, paid orders %s", gmvBefore, gmvAfter, want, refunded, paid)
	}

	// Every other screen of the owner's menu opens (the end of the test
	// fails on any script exception).
	for _, path := range []string{"categories", "import", "aftersales", "refunds", "reconciliations", "settings", "staff", "password"} {
		b.run("open "+path, chromedp.Navigate(e.ts.URL+"/admin/"+path), chromedp.WaitVisible(`.page .card`, chromedp.ByQuery),
			waitJS(`!document.querySelector('.el-loading-mask')`))
	}
	// CSV import: a file with an error reports its line and imports nothing;
	// the corrected file imports.
	dir := t.TempDir()
	bad, good := filepath.Join(dir, "bad.csv"), filepath.Join(dir, "good.csv")
	header := "product_key,category,title,price,stock,spec\n"
	os.WriteFile(bad, []byte(header+"k1,导入/T恤,导入T恤,29.90,5,尺码:M\nk1,导入/T恤,导入T恤,abc,5,尺码:L\n"), 0o644)
	os.WriteFile(good, []byte(header+"k1,导入/T恤,导入T恤,29.90,5,尺码:M\nk1,导入/T恤,导入T恤,29.90,5,尺码:L\n"), 0o644)
	b.run("import a bad CSV", chromedp.Navigate(e.ts.URL+"/admin/import"), chromedp.WaitVisible(`[data-test=csv-file]`, chromedp.ByQuery),
		chromedp.SetUploadFiles(`[data-test=csv-file]`, []string{bad}, chromedp.ByQuery), click(`[data-test=csv-import]`),
		waitJS(`document.querySelector('[data-test=csv-errors]') && document.querySelector('[data-test=csv-errors]').textContent.includes('3')`))
	b.run("import a good CSV", chromedp.SetUploadFiles(`[data-test=csv-file]`, []string{good}, chromedp.ByQuery), click(`[data-test=csv-import]`),
		waitJS(`document.querySelector('.el-alert--success') && document.querySelector('.el-alert--success').textContent.includes('1 个商品')`))

	var tree string
	b.run("category tree", chromedp.Navigate(e.ts.URL+"/admin/categories"), waitJS(`document.querySelector('[data-test=category-tree] .el-tree-node')`),
		chromedp.Text(`[data-test=category-tree]`, &tree, chromedp.ByQuery))
	if !strings.Contains(tree, "甲分类") {
		t.Fatalf("category tree: %q", tree)
	}

	// The operator sees the shops and creates one; its secrets show only as set.
	b.run("log out", click(`[data-test=user-menu]`), clickText(`.el-dropdown-menu__item`, "退出登录"),
		chromedp.WaitVisible(`[data-test=login-submit]`, chromedp.ByQuery))
	b.login("admin", operatorPassword)
	b.run("shops", chromedp.Navigate(e.ts.URL+"/admin/shops"), waitJS(`document.querySelectorAll('[data-test=shops] .el-table__body tr').length >= 1`))
	b.screenshot("shops")
	b.run("new shop", click(`[data-test=new-shop]`), chromedp.WaitVisible(`[data-test=save-shop]`, chromedp.ByQuery),
		fill(`[data-test=shop-name]`, "乙店"), fill(`[data-test=shop-appid]`, "not-an-appid"),
		click(`[data-test=save-shop]`),
		// The API's error shows next to the field it concerns.
		waitJS(`[...document.querySelectorAll('.el-form-item.is-error')].some((e) => e.textContent.includes('AppID'))`),
		fill(`[data-test=shop-appid]`, "wx00000000000e2e01"), fill(`[data-test=secret-app_secret]`, "e2e-app-secret-0123456789"),
		click(`[data-test=save-shop]`),
		waitJS(`/\/admin\/shops\/\d+$/.test(location.pathname)`),
		waitJS(`document.querySelector('[data-test=secret-state-app_secret]').textContent.includes('已设置')`))
	// The new shop's owner account, added on the shop's page.
	b.run("add the new shop's owner", click(`[data-test=add-staff]`), chromedp.WaitVisible(`[data-test=staff-username]`, chromedp.ByQuery),
		fill(`[data-test=staff-username]`, "owner_e2e"), fill(`[data-test=staff-password]`, "owner-e2e-pass-1"),
		pick(`[data-test=staff-role]`, `.el-select-dropdown__item`, "店主"),
		click(`[data-test=staff-save]`),
		waitJS(`[...document.querySelectorAll('[data-test=staff] .el-table__body tr')].some((r) => r.textContent.includes('owner_e2e'))`))
	newOwner := e.staffLogin("owner_e2e", "owner-e2e-pass-1")
	if sh := e.must(newOwner, 200, "GET", "/admin/api/v1/shop", nil); sh["appid"] != "wx00000000000e2e01" || sh["subject_type"] != "enterprise" {
		t.Fatalf("the new owner's shop: %v", sh)
	}
	var html string
	b.run("page html", chromedp.OuterHTML("html", &html, chromedp.ByQuery))
	if strings.Contains(html, "e2e-app-secret-0123456789") {
		t.Fatal("the shop page shows a secret")
	}

	// Nothing typed ran: no dialog opened, no <img src=x> exists.
	var injected int
	// (The operator acts on shop a, as its "manage" button on the shops screen does.)
	b.run("injected nodes", chromedp.Evaluate(fmt.Sprintf(`localStorage.setItem('kaidian.shop', '%d')`, a.id), nil),
		chromedp.Navigate(e.ts.URL+"/admin/products"), waitJS(`document.querySelectorAll('.product-title').length >= 2`),
		chromedp.Evaluate(`document.querySelectorAll('img[src="x"], script:not([src])').length`, &injected))
	// A finance clerk, in English: a menu without staff or settings, and an
	// order without the buttons that change it.
	e.must(caller{token: op.token, shopID: a.id}, 201, "POST", "/admin/api/v1/staff",
		map[string]any{"username": "finance_" + a.appid, "password": "finance-pass-1", "role": "finance"})
	b.run("log out the operator", chromedp.Navigate(e.ts.URL+"/admin/dashboard"), click(`[data-test=user-menu]`),
		clickText(`.el-dropdown-menu__item`, "退出登录"), chromedp.WaitVisible(`[data-test=login-submit]`, chromedp.ByQuery),
		chromedp.Evaluate(`localStorage.setItem('kaidian.locale', 'en')`, nil))
	b.login("finance_"+a.appid, "finance-pass-1")
	b.run("finance menu", chromedp.Text(`.layout-aside`, &menu, chromedp.ByQuery))
	if !strings.Contains(menu, "Orders") || !strings.Contains(menu, "Reconciliation") || strings.Contains(menu, "Staff") ||
		strings.Contains(menu, "Settings") || strings.Contains(menu, "CSV import") {
		t.Fatalf("finance's menu in English: %q", menu)
	}
	var buttons int
	b.run("finance order", chromedp.Navigate(fmt.Sprintf("%s/admin/orders/%d", e.ts.URL, orderID)),
		chromedp.WaitVisible(`[data-test=events]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('[data-test=ship], [data-test=refund], [data-test=cancel], [data-test=save-note]').length`, &buttons))
	if buttons != 0 {
		t.Fatalf("finance sees %d buttons that change the order", buttons)
	}

	// The clerk changes the password: a wrong current one is shown on its
	// field; then the new one works and the old one no longer does.
	b.run("change password", chromedp.Navigate(e.ts.URL+"/admin/password"), chromedp.WaitVisible(`[data-test=password-save]`, chromedp.ByQuery),
		fill(`[data-test=old-password]`, "wrong-pass-123"), fill(`[data-test=new-password]`, "finance-pass-2"),
		fill(`[data-test=repeat-password]`, "finance-pass-2"), click(`[data-test=password-save]`),
		waitJS(`document.querySelector('.el-form-item.is-error [data-test=old-password]') !== null || [...document.querySelectorAll('.el-form-item.is-error')].length > 0`),
		fill(`[data-test=old-password]`, "finance-pass-1"), click(`[data-test=password-save]`),
		waitJS(`document.querySelector('.el-message--success') !== null`))
	if r := e.do(caller{}, "POST", "/admin/api/v1/auth/login", map[string]string{"username": "finance_" + a.appid, "password": "finance-pass-1"}); r.status != 401 {
		t.Fatalf("the old password still works: %d", r.status)
	}
	e.staffLogin("finance_"+a.appid, "finance-pass-2")

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 || injected > 0 {
		t.Fatalf("user text ran as script: dialogs %v, injected nodes %d", b.dialogs, injected)
	}
	for _, c := range b.console {
		if strings.Contains(c, "Content Security Policy") || strings.HasPrefix(c, "exception") || strings.HasPrefix(c, "console.error") {
			t.Errorf("browser console: %s", c)
		}
	}
	if len(b.console) > 0 {
		t.Logf("browser console: %s", strings.Join(b.console, "\n"))
	}
}
