package richtext

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSanitizeRemovesWhatCanRunOrLoad(t *testing.T) {
	attacks := []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`<img src="javascript:alert(1)">`,
		`<img src="data:image/png;base64,AAAA">`,
		`<img src="//evil.example/x.png">`,
		`<a href="javascript:alert(1)">x</a>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<svg onload=alert(1)><circle/></svg>`,
		`<style>body{display:none}</style>`,
		`<p style="background:url(javascript:alert(1))">x</p>`,
		`<p style="color:expression(alert(1))">x</p>`,
		`<form action="https://evil.example"><input name=a></form>`,
		`<object data="x"></object><embed src="x">`,
		`<p onclick="alert(1)">x</p>`,
		`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	}
	for _, in := range attacks {
		out := Sanitize(in)
		low := strings.ToLower(out)
		for _, bad := range []string{"<script", "onerror", "onload", "onclick", "javascript:", "data:", "<iframe", "<svg",
			"<style", "<form", "<input", "<object", "<embed", "expression(", "//evil", "url("} {
			if strings.Contains(low, bad) {
				t.Errorf("Sanitize(%q) = %q keeps %q", in, out, bad)
			}
		}
		if again := Sanitize(out); again != out {
			t.Errorf("not idempotent: %q → %q → %q", in, out, again)
		}
	}
}

func TestSanitizeKeepsFormatting(t *testing.T) {
	cases := map[string]string{
		`<p>纯棉 <strong>加厚</strong> <em>A 类</em></p>`:                    `<p>纯棉 <strong>加厚</strong> <em>A 类</em></p>`,
		`<ul><li>一</li><li>二</li></ul>`:                                 `<ul><li>一</li><li>二</li></ul>`,
		`<h2 style="text-align: center; color: #ff0000">标题</h2>`:        `<h2 style="text-align: center; color: #ff0000">标题</h2>`,
		`<img src="https://img.example.com/a.jpg" alt="图" width="750">`: `<img src="https://img.example.com/a.jpg" alt="图" width="750">`,
		`<img src="/media/shop/1/abc.jpg">`:                             `<img src="/media/shop/1/abc.jpg">`,
		`<a href="https://x.example">链接文字</a>`:                          `链接文字`,
		`a < b & c`:       `a &lt; b &amp; c`,
		"第一行\n第二行 & 第三行":  `第一行<br>第二行 &amp; 第三行`,
		"Tom &amp; Jerry": `Tom &amp; Jerry`,
		`<p style="position:fixed;top:0;color:red">x</p>`: `<p>x</p>`,
		`<table><tr><td colspan="2">合并</td></tr></table>`: `<table><tr><td colspan="2">合并</td></tr></table>`,
	}
	for in, want := range cases {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q)\n got %q\nwant %q", in, got, want)
		}
		if again := Sanitize(want); again != want {
			t.Errorf("not idempotent: %q → %q", want, again)
		}
	}
}

func TestNodesForRichText(t *testing.T) {
	in := Sanitize(`<p>纯棉 &amp; <strong>加厚</strong></p><img src="https://img.example.com/a.jpg" alt="图"><ol start="3"><li>一</li></ol>`)
	got, err := json.Marshal(Nodes(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"p","children":[{"type":"text","text":"纯棉 \u0026 "},{"name":"strong","children":[{"type":"text","text":"加厚"}]}]},` +
		`{"name":"img","attrs":{"alt":"图","src":"https://img.example.com/a.jpg","style":"max-width:100%;height:auto;display:block"}},` +
		`{"name":"ol","attrs":{"start":"3"},"children":[{"name":"li","children":[{"type":"text","text":"一"}]}]}]`
	if string(got) != want {
		t.Fatalf("nodes\n got %s\nwant %s", got, want)
	}
	if n := Nodes(""); n == nil || len(n) != 0 {
		t.Fatalf("empty description: %#v", n)
	}
	if p := PlainText(in); p != "纯棉 & 加厚 一" {
		t.Fatalf("plain text %q", p)
	}
}
