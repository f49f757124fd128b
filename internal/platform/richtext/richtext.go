// Package richtext makes staff-written rich text safe and turns it into the
// node list a mini program's <rich-text> component renders.
//
// Sanitize keeps formatting (paragraphs, headings, bold, italics, lists,
// quotes, tables, images) and a few inline styles, and drops everything that
// can run or load something: scripts, event handlers, javascript: and data:
// URLs, iframes, forms, SVG, style sheets. What is kept is a subset of the
// tags <rich-text> trusts, so Nodes can hand it on as it is.
package richtext

import (
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Node is one node of a <rich-text> nodes array: an element (Name, Attrs,
// Children) or a text node (Type "text", Text).
type Node struct {
	Name     string            `json:"name,omitempty" doc:"tag name; absent for text"`
	Type     string            `json:"type,omitempty" enum:"text" doc:"\"text\" for a text node; absent for an element"`
	Attrs    map[string]string `json:"attrs,omitempty" doc:"class, style, src, alt, width, height, colspan, rowspan, start"`
	Children []Node            `json:"children,omitempty"`
	Text     string            `json:"text,omitempty" doc:"a text node's text, not HTML-escaped"`
}

var blockTags = []string{"p", "br", "div", "section", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr",
	"ul", "ol", "li", "pre", "code", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption"}

var inlineTags = []string{"span", "strong", "b", "em", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark"}

var (
	color    = regexp.MustCompile(`^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|rgba?\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*(,\s*(0|1|0?\.\d+)\s*)?\))$`)
	fontSize = regexp.MustCompile(`^\d{1,2}(\.\d)?(px|em|rem|%)$`)
	length   = regexp.MustCompile(`^\d{1,4}(px|%)?$`)
	// imageURL admits absolute http(s) URLs and kaidian's own root-relative
	// media paths; never javascript:, data: or protocol-relative URLs.
	imageURL = regexp.MustCompile(`^(https?://[^\s"'<>]+|/[^/\s"'<>][^\s"'<>]*)$`)
)

var policy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements(blockTags...)
	p.AllowElements(inlineTags...)
	p.AllowAttrs("src").Matching(imageURL).OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("width", "height").Matching(length).OnElements("img", "td", "th", "table")
	p.AllowAttrs("colspan", "rowspan").Matching(regexp.MustCompile(`^\d{1,2}$`)).OnElements("td", "th")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^\d{1,4}$`)).OnElements("ol")
	p.AllowStyles("color", "background-color").Matching(color).Globally()
	p.AllowStyles("text-align").MatchingEnum("left", "center", "right", "justify").Globally()
	p.AllowStyles("font-weight").MatchingEnum("normal", "bold", "400", "700").Globally()
	p.AllowStyles("font-style").MatchingEnum("normal", "italic").Globally()
	p.AllowStyles("text-decoration").MatchingEnum("none", "underline", "line-through").Globally()
	p.AllowStyles("font-size").Matching(fontSize).Globally()
	p.RequireParseableURLs(true)
	p.AllowURLSchemes("http", "https")
	p.AllowRelativeURLs(true)
	return p
})

// Sanitize returns s with everything outside the policy removed. Text
// outside any tag is kept (escaped); plain text (no tag at all) keeps its
// line breaks as <br>.
func Sanitize(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "<") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "<br>")
	}
	return strings.TrimSpace(policy().Sanitize(s))
}

// imageStyle makes an image fit the screen's width in <rich-text>, which
// otherwise shows it at its natural size.
const imageStyle = "max-width:100%;height:auto;display:block"

// Nodes parses sanitized HTML into <rich-text> nodes. Run it on Sanitize's
// output: it keeps every element and attribute it is given.
func Nodes(sanitized string) []Node {
	if sanitized == "" {
		return []Node{}
	}
	frag, err := html.ParseFragment(strings.NewReader(sanitized), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		return []Node{{Type: "text", Text: sanitized}}
	}
	out := make([]Node, 0, len(frag))
	for _, n := range frag {
		if node, ok := convert(n); ok {
			out = append(out, node)
		}
	}
	return out
}

func convert(n *html.Node) (Node, bool) {
	switch n.Type {
	case html.TextNode:
		if n.Data == "" {
			return Node{}, false
		}
		return Node{Type: "text", Text: n.Data}, true
	case html.ElementNode:
		node := Node{Name: n.Data}
		for _, a := range n.Attr {
			if node.Attrs == nil {
				node.Attrs = map[string]string{}
			}
			node.Attrs[a.Key] = a.Val
		}
		if n.Data == "img" {
			if node.Attrs["src"] == "" {
				return Node{}, false
			}
			node.Attrs["style"] = imageStyle
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if child, ok := convert(c); ok {
				node.Children = append(node.Children, child)
			}
		}
		return node, true
	}
	return Node{}, false
}

// PlainText is the text of sanitized HTML without tags, blocks separated by
// spaces: for search, moderation and share previews.
func PlainText(sanitized string) string {
	var b strings.Builder
	var walk func(ns []Node)
	walk = func(ns []Node) {
		for _, n := range ns {
			if n.Type == "text" {
				b.WriteString(n.Text)
				continue
			}
			walk(n.Children)
			if n.Name != "" && !isInline(n.Name) {
				b.WriteByte(' ')
			}
		}
	}
	walk(Nodes(sanitized))
	return strings.Join(strings.Fields(b.String()), " ")
}

func isInline(tag string) bool {
	for _, t := range inlineTags {
		if t == tag {
			return true
		}
	}
	return false
}
