package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// TestConsoleMembersInARealBrowser: staff find a member by nickname in the
// members screen, open the detail, see its order, give it a tag and write a
// note; then build a segment of that tag and see its live count.
func TestConsoleMembersInARealBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail where required) before starting a server
	e := newEnv(t, db.TestDSN(t, db.SQLite), nil)
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise")
	if _, err := e.srv.DB.Exec(t.Context(), `UPDATE members SET nickname = '小红' WHERE id = ?`, a.memberID); err != nil {
		t.Fatal(err)
	}
	e.memberLogin(a.appid, "someone-else")
	e.must(a.owner, 201, "POST", "/admin/api/v1/member-tags", map[string]any{"name": "老客"})
	b := newBrowser(t, e.ts.URL)
	b.login("owner_"+a.appid, "owner-pass-1")

	b.run("search", chromedp.Navigate(e.ts.URL+"/admin/members"),
		waitJS(`document.querySelectorAll('[data-test=members] .el-table__body tr').length === 2`),
		fill(`[data-test=members-nickname]`, "红"), click(`[data-test=members-search]`),
		waitJS(`document.querySelectorAll('[data-test=members] .el-table__body tr').length === 1`))
	b.screenshot("members")
	b.run("detail", clickText(`[data-test=members] a`, "小红"),
		waitJS(`document.querySelectorAll('[data-test=member-orders] .el-table__body tr').length === 1`),
		pick(`[data-test=member-tags]`, `.el-select-dropdown__item`, "老客"), click(`[data-test=member-tags-save]`),
		fill(`[data-test=member-note]`, "喜欢红色"), click(`[data-test=member-note-add]`),
		waitJS(`document.querySelectorAll('[data-test=member-notes] .el-table__body tr').length === 1`))
	b.screenshot("member-detail")
	waitFor(t, "the tag saved", func() bool {
		r := e.do(a.owner, "GET", fmt.Sprintf("/admin/api/v1/members/%d/tags", a.memberID), nil)
		return r.status == 200 && len(r.body) > 2
	})
	if notes := e.do(a.owner, "GET", fmt.Sprintf("/admin/api/v1/members/%d/notes", a.memberID), nil); notes.status != 200 || !strings.Contains(string(notes.body), "喜欢红色") {
		t.Fatalf("notes: %d %s", notes.status, notes.body)
	}

	b.run("segment", chromedp.Navigate(e.ts.URL+"/admin/segments"), click(`[data-test=segment-new]`),
		chromedp.WaitVisible(`[data-test=segment-save]`, chromedp.ByQuery), fill(`[data-test=segment-name]`, "老客们"),
		clickText(`.el-dialog button`, "添加条件"),
		pick(`.el-dialog .rule`, `.el-select-dropdown__item`, "带有标签"),
		pick(`.el-dialog .rule .el-select:nth-of-type(2)`, `.el-select-dropdown__item`, "老客"),
		click(`[data-test=segment-preview-run]`), waitJS(`(document.querySelector('[data-test=segment-preview]') || {}).textContent?.includes('1')`),
		click(`[data-test=segment-save]`))
	b.screenshot("segments")
	waitFor(t, "the segment saved", func() bool {
		list := e.mustList(a.owner, "/admin/api/v1/segments")
		return len(list) == 1 && list[0]["name"] == "老客们"
	})
}
