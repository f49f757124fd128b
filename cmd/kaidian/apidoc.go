package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// apiReference renders the OpenAPI document (JSON) as docs/api.md: every
// route with its method, path, summary, access, parameters, body and answer
// outlines, error codes and an example request and answer built from the
// schemas; then every schema as a table.
func apiReference(docJSON []byte) string {
	var doc oaDoc
	if err := json.Unmarshal(docJSON, &doc); err != nil {
		return "invalid OpenAPI document: " + err.Error() + "\n"
	}
	r := &refDoc{doc: doc}
	return r.render()
}

type oaSchema struct {
	Ref                  string               `json:"$ref"`
	Type                 string               `json:"type"`
	Format               string               `json:"format"`
	Enum                 []string             `json:"enum"`
	Properties           map[string]*oaSchema `json:"properties"`
	Required             []string             `json:"required"`
	Items                *oaSchema            `json:"items"`
	AdditionalProperties *oaSchema            `json:"additionalProperties"`
	AllOf                []*oaSchema          `json:"allOf"`
	Description          string               `json:"description"`
	Nullable             bool                 `json:"nullable"`
}

type oaMedia struct {
	Schema *oaSchema `json:"schema"`
}

type oaParam struct {
	Name        string    `json:"name"`
	In          string    `json:"in"`
	Required    bool      `json:"required"`
	Description string    `json:"description"`
	Schema      *oaSchema `json:"schema"`
}

type oaResponse struct {
	Description string             `json:"description"`
	Content     map[string]oaMedia `json:"content"`
	ErrorCodes  []string           `json:"x-error-codes"`
}

type oaOperation struct {
	Summary     string    `json:"summary"`
	OperationID string    `json:"operationId"`
	Tags        []string  `json:"tags"`
	Parameters  []oaParam `json:"parameters"`
	RequestBody *struct {
		Content map[string]oaMedia `json:"content"`
	} `json:"requestBody"`
	Responses  map[string]oaResponse `json:"responses"`
	Security   []map[string][]string `json:"security"`
	Permission string                `json:"x-permission"`
}

type oaDoc struct {
	Info struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"info"`
	Paths      map[string]map[string]oaOperation `json:"paths"`
	Components struct {
		Schemas map[string]*oaSchema `json:"schemas"`
	} `json:"components"`
}

type refOp struct {
	method, path string
	op           oaOperation
}

type refDoc struct {
	doc oaDoc
	b   strings.Builder
	// request: the example being built is a request body (optional ids,
	// which name one of several alternatives, are left out; flags are off).
	request bool
}

var methodOrder = map[string]int{"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}

func (r *refDoc) ops() (tags []string, byTag map[string][]refOp) {
	byTag = map[string][]refOp{}
	for path, item := range r.doc.Paths {
		for method, op := range item {
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			byTag[tag] = append(byTag[tag], refOp{method, path, op})
		}
	}
	for tag, ops := range byTag {
		tags = append(tags, tag)
		sort.Slice(ops, func(i, j int) bool {
			if ops[i].path != ops[j].path {
				return ops[i].path < ops[j].path
			}
			return methodOrder[ops[i].method] < methodOrder[ops[j].method]
		})
	}
	// Buyers' (mini program) routes first, then the admin API, then the rest.
	rank := func(t string) int {
		switch {
		case strings.HasPrefix(t, "mini:"):
			return 0
		case strings.HasPrefix(t, "admin:"):
			return 1
		}
		return 2
	}
	sort.Slice(tags, func(i, j int) bool {
		if rank(tags[i]) != rank(tags[j]) {
			return rank(tags[i]) < rank(tags[j])
		}
		return tags[i] < tags[j]
	})
	return tags, byTag
}

func anchor(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func (r *refDoc) p(format string, args ...any) { fmt.Fprintf(&r.b, format, args...) }

func (r *refDoc) render() string {
	tags, byTag := r.ops()
	n := 0
	for _, ops := range byTag {
		n += len(ops)
	}
	r.p("# kaidian API reference\n\n")
	r.p("<!-- Generated from the OpenAPI document by `kaidian openapi --markdown` (cmd/kaidian/apidoc.go);\n")
	r.p("     do not edit: KAIDIAN_UPDATE_DOCS=1 go test ./cmd/kaidian -run TestOpenAPIDocumentIsCurrent rewrites it. -->\n\n")
	r.p("%d operations on %d paths, the same document the server serves at `/openapi.json` ", n, len(r.doc.Paths))
	r.p("(`kaidian openapi` prints it without a server; `clients/ts` is a typed TypeScript client generated from it).\n\n")
	r.p("- **Mini-program routes** (`/api/v1/…`) name the shop by `X-Appid: <appid>` before login; after `POST /api/v1/auth/login` ")
	r.p("send the buyer's token as `Authorization: Bearer <token>` (the shop comes from the session).\n")
	r.p("- **Admin routes** (`/admin/api/v1/…`) take the staff session from `POST /admin/api/v1/auth/login`: the `kaidian_admin` cookie ")
	r.p("(then every changing request carries `X-CSRF-Token`, the `kaidian_csrf` cookie's value) or `Authorization: Bearer <token>`. ")
	r.p("Operators pick the shop with `X-Shop-Id`. Each admin route needs the permission shown.\n")
	r.p("- **Idempotency-Key** (8 to 64 characters) makes a retry return the first answer instead of acting twice; ")
	r.p("routes that require it say so.\n")
	r.p("- **Money** is an integer number of fen (¥1 = 100); times are RFC 3339. Lists answer `{items, next_cursor}`: pass `cursor` to get the next page.\n")
	r.p("- **Errors** answer `{\"code\", \"message\", \"fields\"}`: %s\n\n", strings.TrimPrefix(r.doc.Info.Description, "Errors are {code, message, fields}: "))
	r.p("The examples are made from the schemas (typical values, not a recorded session).\n\n")
	r.p("## Contents\n\n")
	for _, tag := range tags {
		r.p("- [%s](#%s) (%d)\n", tag, anchor("tag "+tag), len(byTag[tag]))
	}
	r.p("- [Schemas](#schemas)\n\n")
	for _, tag := range tags {
		r.p("<a id=\"%s\"></a>\n\n## %s\n\n", anchor("tag "+tag), tag)
		for _, o := range byTag[tag] {
			r.p("- [`%s %s`](#%s) %s\n", strings.ToUpper(o.method), o.path, anchor(o.op.OperationID), o.op.Summary)
		}
		r.p("\n")
		for _, o := range byTag[tag] {
			r.operation(o)
		}
	}
	r.schemas()
	return strings.TrimRight(r.b.String(), "\n") + "\n"
}

func (r *refDoc) access(op oaOperation) string {
	var kinds []string
	for _, s := range op.Security {
		for k := range s {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	switch strings.Join(kinds, ",") {
	case "":
		return "public"
	case "appid,member":
		return "the shop's mini program: `X-Appid` or a buyer's token"
	case "member":
		return "a logged-in buyer (`Authorization: Bearer <token>`)"
	case "staff":
		if op.Permission != "" {
			return "staff with permission `" + op.Permission + "`"
		}
		return "staff"
	}
	return strings.Join(kinds, " or ")
}

func (r *refDoc) operation(o refOp) {
	op := o.op
	r.p("<a id=\"%s\"></a>\n\n### `%s %s`\n\n", anchor(op.OperationID), strings.ToUpper(o.method), o.path)
	if op.Summary != "" {
		r.p("%s\n\n", op.Summary)
	}
	r.p("Access: %s.\n\n", r.access(op))
	if len(op.Parameters) > 0 {
		r.p("| parameter | in | required | type | description |\n|---|---|---|---|---|\n")
		for _, prm := range op.Parameters {
			req := ""
			if prm.Required {
				req = "yes"
			}
			r.p("| `%s` | %s | %s | %s | %s |\n", prm.Name, prm.In, req, r.typeName(prm.Schema), cell(prm.Description))
		}
		r.p("\n")
	}
	var reqMedia, reqSchema = r.bodyOf(op)
	if reqMedia != "" {
		r.p("Request body (`%s`): %s\n\n", reqMedia, r.typeName(reqSchema))
		r.outline(reqSchema)
	}
	okStatus, okMedia, okSchema := r.success(op)
	switch {
	case okMedia == "":
		r.p("Answer: `%s`, no body.\n\n", okStatus)
	case okMedia != "application/json":
		r.p("Answer: `%s`, a file (`%s`).\n\n", okStatus, okMedia)
	default:
		r.p("Answer: `%s` %s\n\n", okStatus, r.typeName(okSchema))
		r.outline(okSchema)
	}
	r.errors(op)
	r.example(o, reqMedia, reqSchema, okStatus, okMedia, okSchema)
}

func (r *refDoc) bodyOf(op oaOperation) (string, *oaSchema) {
	if op.RequestBody == nil {
		return "", nil
	}
	for _, m := range sortedKeys(op.RequestBody.Content) {
		return m, op.RequestBody.Content[m].Schema
	}
	return "", nil
}

func (r *refDoc) success(op oaOperation) (status, media string, s *oaSchema) {
	for _, st := range sortedKeys(op.Responses) {
		if st >= "200" && st < "300" {
			res := op.Responses[st]
			for _, m := range sortedKeys(res.Content) {
				return st, m, res.Content[m].Schema
			}
			return st, "", nil
		}
	}
	return "200", "", nil
}

func (r *refDoc) errors(op oaOperation) {
	var lines []string
	for _, st := range sortedKeys(op.Responses) {
		if st < "400" {
			continue
		}
		codes := op.Responses[st].ErrorCodes
		text := "`" + strings.Join(codes, "`, `") + "`"
		if len(codes) == 0 {
			text = "the thing's own `…_not_found` code"
		} else if st == "404" {
			text += ", or the thing's own `…_not_found` code"
		}
		lines = append(lines, fmt.Sprintf("`%s` %s", st, text))
	}
	if len(lines) > 0 {
		r.p("Errors: %s.\n\n", strings.Join(lines, "; "))
	}
}

func (r *refDoc) example(o refOp, reqMedia string, reqSchema *oaSchema, okStatus, okMedia string, okSchema *oaSchema) {
	op := o.op
	path := o.path
	for _, prm := range op.Parameters {
		if prm.In == "path" {
			path = strings.ReplaceAll(path, "{"+prm.Name+"}", "1")
		}
	}
	r.p("<details><summary>Example</summary>\n\n```http\n%s %s HTTP/1.1\n", strings.ToUpper(o.method), path)
	switch r.access(op)[:5] {
	case "the s":
		r.p("X-Appid: wxd0c0ffee00000001\n")
	case "a log":
		r.p("Authorization: Bearer <token>\n")
	case "staff":
		r.p("Authorization: Bearer <staff token>\n")
	}
	for _, prm := range op.Parameters {
		if prm.In == "header" && prm.Name == "Idempotency-Key" && prm.Required {
			r.p("Idempotency-Key: 5f0c2a7e-order-0001\n")
		}
	}
	switch {
	case reqMedia == "application/json":
		r.p("Content-Type: application/json\n\n%s\n", r.exampleJSON(reqSchema, true))
	case reqMedia != "":
		r.p("Content-Type: %s\n\n<%s>\n", reqMedia, reqMedia)
	}
	r.p("```\n\n```http\nHTTP/1.1 %s\n", okStatus)
	switch {
	case okMedia == "application/json":
		r.p("Content-Type: application/json\n\n%s\n", r.exampleJSON(okSchema, false))
	case okMedia != "":
		r.p("Content-Type: %s\n\n<%s>\n", okMedia, okMedia)
	}
	r.p("```\n\n</details>\n\n")
}

func (r *refDoc) exampleJSON(s *oaSchema, request bool) string {
	r.request = request
	v := r.exampleOf("", s, map[string]bool{}, 0)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "null"
	}
	return strings.TrimRight(buf.String(), "\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// deref follows $ref and a single allOf wrapper (a described or nullable
// reference).
func (r *refDoc) deref(s *oaSchema) (*oaSchema, string) {
	name := ""
	for i := 0; s != nil && i < 8; i++ {
		switch {
		case s.Ref != "":
			name = strings.TrimPrefix(s.Ref, "#/components/schemas/")
			s = r.doc.Components.Schemas[name]
		case len(s.AllOf) == 1:
			s = s.AllOf[0]
		default:
			return s, name
		}
	}
	return s, name
}

// typeName is a short Markdown type: a link for a named schema.
func (r *refDoc) typeName(s *oaSchema) string {
	if s == nil {
		return ""
	}
	if s.Ref != "" || len(s.AllOf) == 1 {
		_, name := r.deref(s)
		if name != "" {
			return "[`" + name + "`](#" + anchor("schema "+name) + ")"
		}
	}
	switch s.Type {
	case "array":
		return "array of " + r.typeName(s.Items)
	case "object":
		if s.AdditionalProperties != nil {
			return "map of " + r.typeName(s.AdditionalProperties)
		}
		return "object"
	case "string":
		if len(s.Enum) > 0 {
			return "`" + strings.Join(s.Enum, "` \\| `") + "`"
		}
		if s.Format != "" {
			return "string (" + s.Format + ")"
		}
	}
	if s.Type == "" {
		return "any"
	}
	return s.Type
}

// outline lists the top-level fields of an object body (an array's
// element's), each with its type.
func (r *refDoc) outline(s *oaSchema) {
	d, _ := r.deref(s)
	if d != nil && d.Type == "array" {
		d, _ = r.deref(d.Items)
	}
	if d == nil || len(d.Properties) == 0 {
		return
	}
	req := map[string]bool{}
	for _, n := range d.Required {
		req[n] = true
	}
	for _, name := range sortedKeys(d.Properties) {
		f := d.Properties[name]
		extra := ""
		if req[name] {
			extra = ", required"
		}
		if f.Nullable {
			extra += ", nullable"
		}
		desc := ""
		if f.Description != "" {
			desc = " — " + oneLine(f.Description)
		}
		r.p("- `%s` (%s%s)%s\n", name, r.typeName(f), extra, desc)
	}
	r.p("\n")
}

func (r *refDoc) schemas() {
	r.p("<a id=\"schemas\"></a>\n\n## Schemas\n\n")
	for _, name := range sortedKeys(r.doc.Components.Schemas) {
		s := r.doc.Components.Schemas[name]
		r.p("<a id=\"%s\"></a>\n\n### `%s`\n\n", anchor("schema "+name), name)
		if len(s.Properties) == 0 {
			r.p("%s\n\n", r.typeName(s))
			continue
		}
		req := map[string]bool{}
		for _, n := range s.Required {
			req[n] = true
		}
		r.p("| field | type | required | description |\n|---|---|---|---|\n")
		for _, f := range sortedKeys(s.Properties) {
			p := s.Properties[f]
			reqs := ""
			if req[f] {
				reqs = "yes"
			}
			desc := p.Description
			if p.Nullable {
				desc = strings.TrimSpace(desc + " (may be null)")
			}
			r.p("| `%s` | %s | %s | %s |\n", f, r.typeName(p), reqs, cell(desc))
		}
		r.p("\n")
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", "\\|") }

// exampleOf builds an example value of s; name is the field's name, which
// picks a typical value (amounts in fen, ids, phones, times, addresses).
func (r *refDoc) exampleOf(name string, s *oaSchema, seen map[string]bool, depth int) any {
	d, ref := r.deref(s)
	if d == nil {
		return nil
	}
	if ref != "" {
		if seen[ref] || depth > 6 {
			return nil // a recursive type: the example stops here
		}
		seen[ref] = true
		defer delete(seen, ref)
	}
	switch d.Type {
	case "object":
		if d.AdditionalProperties != nil {
			key := "key"
			if strings.Contains(name, "result") {
				key = "demo-tpl-order-paid"
			}
			return map[string]any{key: r.exampleOf(name, d.AdditionalProperties, seen, depth+1)}
		}
		req := map[string]bool{}
		for _, n := range d.Required {
			req[n] = true
		}
		out := map[string]any{}
		for _, f := range sortedKeys(d.Properties) {
			if r.request && !req[f] && (strings.HasSuffix(f, "_id") || strings.HasSuffix(f, "_ids")) {
				continue
			}
			out[f] = r.exampleOf(f, d.Properties[f], seen, depth+1)
		}
		return out
	case "array":
		item := r.exampleOf(singular(name), d.Items, seen, depth+1)
		if item == nil {
			return []any{}
		}
		return []any{item}
	case "integer":
		return exampleInt(name)
	case "number":
		return 4.5
	case "boolean":
		return !r.request && name != "locked" && name != "banned"
	case "string":
		if len(d.Enum) > 0 {
			return d.Enum[0]
		}
		return exampleString(name, d.Format)
	}
	return nil
}

func singular(name string) string {
	switch {
	case strings.HasSuffix(name, "ies"):
		return strings.TrimSuffix(name, "ies") + "y"
	case strings.HasSuffix(name, "s"):
		return strings.TrimSuffix(name, "s")
	}
	return name
}

func has(name string, parts ...string) bool {
	for _, p := range parts {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}

func words(name string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Split(strings.ToLower(name), "_") {
		out[w] = true
	}
	return out
}

func anyWord(w map[string]bool, list ...string) bool {
	for _, x := range list {
		if w[x] {
			return true
		}
	}
	return false
}

func exampleInt(name string) int64 {
	w := words(name)
	switch {
	case name == "id" || strings.HasSuffix(name, "_id") || name == "by" || strings.HasSuffix(name, "_by"):
		return 1
	case w["bp"]:
		return 5000
	case anyWord(w, "percent", "progress"):
		return 60
	case w["ms"]:
		return 120
	case anyWord(w, "sec", "seconds"):
		return 120
	case anyWord(w, "minutes", "minute"):
		return 30
	case anyWord(w, "days", "day"):
		return 7
	case w["year"]:
		return 2026
	case anyWord(w, "quantity", "count", "stock", "limit", "capacity", "streak", "cards", "makeups", "makeup", "lessons",
		"orders", "members", "buyers", "learners", "holders", "enrolled", "attempts", "likes", "badges", "size", "level",
		"version", "rank", "sort", "errcode", "env", "remaining", "used", "left", "done", "completed", "received", "active"):
		return 1
	case w["per"] && w["yuan"]:
		return 100 // points per yuan
	case anyWord(w, "discount", "refunded", "refund", "fee", "saving", "saved", "clawed"):
		return 1000
	case w["tax"] && w["rate"]:
		return 1300 // basis points
	case w["tax"]:
		return 2289
	case anyWord(w, "points", "growth", "balance", "delta"):
		return 189
	case anyWord(w, "weight", "grams"):
		return 500
	case anyWord(w, "time", "at"):
		return 1779244200000 // Unix milliseconds
	case anyWord(w, "amount", "price", "fen", "fee", "total", "paid", "spent", "cost", "payable", "gmv", "commission", "owed",
		"frozen", "available", "withdrawing", "withdrawn", "offset", "max", "min", "over", "rate", "cap", "threshold", "value",
		"income", "revenue", "base", "list", "unit", "original", "earned", "out"):
		return 19900 // fen
	case strings.HasSuffix(name, "s"):
		return 3 // a count
	}
	return 1
}

func exampleString(name, format string) string {
	switch format {
	case "date-time":
		return "2026-05-20T10:30:00+08:00"
	case "byte":
		return "a2FpZGlhbg=="
	case "binary":
		return "<file>"
	}
	switch {
	case name == "appid" || strings.HasSuffix(name, "_appid"):
		return "wxd0c0ffee00000001"
	case has(name, "cursor"):
		return "eyJpZCI6MTAwfQ"
	case has(name, "phone", "tel"):
		return "13800138000"
	case has(name, "openid"):
		return "oDemoBuyer0000000000000001"
	case has(name, "token", "secret", "key", "sig", "password", "signature"):
		return "5f0c2a7e9b1d4c3a8e6f"
	case has(name, "url", "image", "cover", "avatar", "media"):
		return "https://img.example.com/demo/p0.jpg"
	case name == "province_code":
		return "330000"
	case name == "city_code":
		return "330100"
	case name == "county_code" || name == "district_code":
		return "330106"
	case has(name, "postal"):
		return "310000"
	case has(name, "province"):
		return "浙江省"
	case has(name, "city"):
		return "杭州市"
	case has(name, "district", "county"):
		return "西湖区"
	case name == "detail" || has(name, "detailinfo", "street"):
		return "文三路 1 号"
	case has(name, "tracking_no"):
		return "SF1400000000001"
	case has(name, "carrier"):
		return "顺丰"
	case has(name, "note", "reason", "why"):
		return "少发一件"
	case strings.HasSuffix(name, "_no"):
		return "202605201030000001"
	case has(name, "email"):
		return "owner@example.com"
	case has(name, "date", "birthday", "day", "due_on", "today"):
		return "2026-05-20"
	case has(name, "month"):
		return "2026-05"
	case has(name, "username"):
		return "owner"
	case has(name, "nickname", "display_name", "username", "user_name", "author", "actor"):
		return "小张"
	case has(name, "name"):
		return "张三"
	case has(name, "title"):
		return "夏季新款碎花连衣裙"
	case has(name, "subtitle"):
		return "法式复古 收腰显瘦"
	case has(name, "text", "body", "content", "message", "intro", "description", "reply"):
		return "好看！"
	case has(name, "template"):
		return "demo-tpl-order-paid"
	case name == "code" || has(name, "_code"):
		return "081ABCdef2Gh3i0jKl4Mn5oP6q7ABCdE"
	case has(name, "page"):
		return "pages/order/detail?id=1"
	case has(name, "sha256"):
		return "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	case has(name, "serial", "mch_id"):
		return "1900000109"
	case has(name, "version"):
		return "v1"
	case has(name, "target"):
		return "product:1"
	case has(name, "ip", "addr"):
		return "203.0.113.7"
	case has(name, "status", "state", "kind", "type", "role", "mode"):
		return "default"
	}
	return "示例"
}
