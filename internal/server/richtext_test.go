package server_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRichDescriptionIsSanitizedAndSentAsNodes: staff save a description
// with formatting, an image and an attack; what is stored keeps the
// formatting and loses the attack, and buyers get it as <rich-text> nodes
// (the same after an edit, so the cached page follows).
func TestRichDescriptionIsSanitizedAndSentAsNodes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		a := e.newShop(e.operator(), "文", "enterprise")
		body := productBody(a.categoryID, "富文本连衣裙", true)
		body["description"] = `<p>纯棉 <strong>加厚</strong><script>alert(1)</script></p>` +
			`<img src="https://img.example.com/d.jpg" onerror="alert(2)"><a href="javascript:alert(3)">尺码表</a>`
		p := e.must(a.owner, 201, "POST", "/admin/api/v1/products", body)
		id := int64(p["id"].(float64))
		want := `<p>纯棉 <strong>加厚</strong></p><img src="https://img.example.com/d.jpg">尺码表`
		if got := e.must(a.owner, 200, "GET", "/admin/api/v1/products/"+itoa(id), nil)["description"]; got != want {
			t.Fatalf("stored description %q, want %q", got, want)
		}
		nodes := func() string {
			d := e.must(caller{appid: a.appid}, 200, "GET", "/api/v1/products/"+itoa(id), nil)
			b, _ := json.Marshal(d["description_nodes"])
			return string(b)
		}
		got := nodes()
		wantNodes := `[{"children":[{"text":"纯棉 ","type":"text"},{"children":[{"text":"加厚","type":"text"}],"name":"strong"}],"name":"p"},` +
			`{"attrs":{"src":"https://img.example.com/d.jpg","style":"max-width:100%;height:auto;display:block"},"name":"img"},{"text":"尺码表","type":"text"}]`
		if got != wantNodes {
			t.Fatalf("buyer's description nodes\n got %s\nwant %s", got, wantNodes)
		}
		body["description"] = "第一行\n第二行"
		e.must(a.owner, 200, "PUT", "/admin/api/v1/products/"+itoa(id), body)
		waitFor(t, "the edited description on the buyer's page", func() bool {
			return strings.Contains(nodes(), `{"name":"br"}`)
		})
		if staff := e.must(a.owner, 200, "GET", "/admin/api/v1/products/"+itoa(id), nil); staff["description_nodes"] != nil {
			t.Fatalf("staff's product carries buyer nodes: %v", staff["description_nodes"])
		}
	})
}
