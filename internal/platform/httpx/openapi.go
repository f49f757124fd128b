package httpx

import (
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Enum is implemented by named string types whose values are a closed set
// (statuses, kinds, roles): the document lists the values as an enum
// wherever the type is used. A single field can also say `enum:"a,b"`.
type Enum interface{ EnumValues() []string }

var enumType = reflect.TypeOf((*Enum)(nil)).Elem()

// OpenAPI builds the OpenAPI 3 document of every registered route. Schemas
// come from the Go types of Route.Request and Route.Response, so the document
// cannot drift from the code. Components are named package.Type
// (order.Item, moderation.Item), so two types of the same name never share
// one schema.
func (a *API) OpenAPI(title, version string) map[string]any {
	g := &schemaGen{components: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, rt := range a.Routes() {
		p := openAPIPath(rt.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = g.operation(rt)
	}
	g.components["Error"] = g.structSchema(reflect.TypeOf(ErrorBody{}))
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": title, "version": version, "description": "Errors are " +
			"{code, message, fields}: code is stable (a program may branch on it), message is for developers, " +
			"fields names the input fields at fault. Each operation lists the statuses it can answer with their codes; " +
			"any path also answers 405 method_not_allowed (with Allow) to a method it does not serve."},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{
				"member": map[string]any{"type": "http", "scheme": "bearer", "description": "session token from POST /api/v1/auth/login"},
				"staff":  map[string]any{"type": "apiKey", "in": "cookie", "name": "kaidian_admin", "description": "admin session cookie (or Authorization: Bearer)"},
				"appid":  map[string]any{"type": "apiKey", "in": "header", "name": "X-Appid", "description": "the mini program's appid"},
			},
		},
	}
}

var pathParam = regexp.MustCompile(`\{([a-zA-Z_]+)(\.\.\.)?\}`)

func openAPIPath(p string) string { return pathParam.ReplaceAllString(p, "{$1}") }

// schemaGen builds the components. In input mode (request bodies) a struct
// becomes its ".input" component, where no field is required: the server
// decodes a missing field as its zero value and answers with a validation
// error where one is needed, so a client must never be forced to send
// fields the server defaults.
type schemaGen struct {
	components map[string]any
	input      bool
}

// inputSchema is the schema of a request body of type t.
func (g *schemaGen) inputSchema(t reflect.Type) map[string]any {
	g.input = true
	defer func() { g.input = false }()
	return g.schema(t)
}

func (g *schemaGen) operation(rt Route) map[string]any {
	op := map[string]any{
		"summary":     rt.Summary,
		"operationId": operationID(rt),
		"tags":        []string{rt.Tag},
		"responses":   g.responses(rt),
	}
	if params := parameters(rt); len(params) > 0 {
		op["parameters"] = params
	}
	if rt.Request != nil {
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"application/json": map[string]any{"schema": g.inputSchema(reflect.TypeOf(rt.Request))}}}
	}
	if rt.Consumes != "" {
		media := binaryMedia()
		if rt.ConsumesSchema != nil {
			media = map[string]any{"schema": rt.ConsumesSchema}
		}
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{rt.Consumes: media}}
	}
	switch rt.Access {
	case Shop:
		op["security"] = []map[string][]string{{"appid": {}}, {"member": {}}}
	case Member:
		op["security"] = []map[string][]string{{"member": {}}}
	case Staff:
		op["security"] = []map[string][]string{{"staff": {}}}
		op["x-permission"] = string(rt.Perm)
		if rt.StepUp || rt.MayStepUp {
			op["x-step-up"] = map[bool]string{true: "always", false: "when the handler asks"}[rt.StepUp]
			op["description"] = stepUpDoc
		}
	}
	return op
}

const stepUpDoc = "Step-up: a staff member with two-step verification (TOTP) must have verified a code on this session " +
	"within the last 5 minutes (POST /admin/api/v1/auth/totp/verify) or send one in X-Kaidian-OTP; otherwise 403 " +
	"second_factor_required. Staff without TOTP (where it is not required) pass: they have nothing to verify."

// binaryMedia is the media type object of a file body.
func binaryMedia() map[string]any {
	return map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
}

func operationID(rt Route) string {
	id := strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "").Replace(rt.Path)
	return strings.TrimSuffix(id, "_")
}

func parameters(rt Route) []map[string]any {
	var out []map[string]any
	for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
		out = append(out, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range rt.Query {
		p := map[string]any{"name": q.Name, "in": "query", "schema": queryParamSchema(q)}
		if q.Description != "" {
			p["description"] = q.Description
		}
		out = append(out, p)
	}
	for _, h := range headers(rt) {
		out = append(out, map[string]any{"name": h.Name, "in": "header", "required": h.Type == "required",
			"description": h.Description, "schema": map[string]any{"type": "string"}})
	}
	return out
}

func queryParamSchema(q Param) map[string]any {
	s := map[string]any{"type": q.Type}
	if q.Type == "" {
		s["type"] = "string"
	}
	if len(q.Enum) > 0 {
		s["enum"] = q.Enum
	}
	return s
}

// headers lists the request headers a route reads besides its session:
// Type is "required" or "optional" here.
func headers(rt Route) []Param {
	var out []Param
	if rt.Idempotent || rt.IdempotentOptional {
		need := map[bool]string{true: "required", false: "optional"}[rt.Idempotent]
		out = append(out, Param{Name: "Idempotency-Key", Type: need,
			Description: "8 to 64 characters chosen by the client; a retry with the same key returns the first answer instead of acting twice"})
	}
	if rt.Access == Shop {
		out = append(out, Param{Name: "X-Appid", Type: "optional",
			Description: "the mini program's appid (or WeChat's Referer https://servicewechat.com/{appid}/…); not needed with a buyer's Bearer token"})
	}
	if rt.Access == Staff {
		out = append(out, Param{Name: "X-Shop-Id", Type: "optional",
			Description: "operators only: the id of the shop to act on (shop staff always act on their own shop)"})
		if rt.StepUp || rt.MayStepUp {
			out = append(out, Param{Name: "X-Kaidian-OTP", Type: "optional",
				Description: "a current TOTP code: steps this session up for this request and the next 5 minutes"})
		}
		if unsafeMethod(rt.Method) {
			out = append(out, Param{Name: "X-CSRF-Token", Type: "optional",
				Description: "required with a cookie session: the value of the kaidian_csrf cookie (Bearer sessions need none)"})
		}
	}
	return out
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// responses documents the success answer and each error status the route
// can give, with the stable codes the platform itself answers there and the
// route's own (Route.Errors).
func (g *schemaGen) responses(rt Route) map[string]any {
	ok := map[string]any{"description": "success"}
	if rt.Response != nil {
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Response))}}
	}
	if rt.Produces != "" {
		ok["description"] = "success: a file (" + rt.Produces + "), sent as an attachment"
		ok["content"] = map[string]any{rt.Produces: binaryMedia()}
		ok["headers"] = map[string]any{"Content-Disposition": map[string]any{
			"description": "attachment; filename=\"…\"; filename*=UTF-8''… (RFC 6266)", "schema": map[string]any{"type": "string"}}}
	}
	out := map[string]any{strconv.Itoa(rt.Status): ok}
	for status, codes := range errorCodes(rt) {
		if codes == nil {
			codes = []string{}
		}
		sort.Strings(codes)
		desc := http.StatusText(status) + ": " + strings.Join(codes, ", ")
		if status == http.StatusNotFound {
			desc = "Not Found: the thing named in the path does not exist or is not yours (its code ends in _not_found) " + strings.Join(codes, ", ")
		}
		res := map[string]any{
			"description":   strings.TrimSpace(desc),
			"x-error-codes": codes,
			"content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": "#/components/schemas/Error"}}},
		}
		if status == http.StatusTooManyRequests {
			res["headers"] = map[string]any{"Retry-After": map[string]any{
				"description": "seconds to wait before trying again", "schema": map[string]any{"type": "integer"}}}
		}
		out[strconv.Itoa(status)] = res
	}
	return out
}

// errorCodes maps each status a route can answer to its stable codes.
func errorCodes(rt Route) map[int][]string {
	codes := map[int][]string{http.StatusInternalServerError: {"internal"},
		http.StatusBadRequest: {"invalid_text"}} // NUL or invalid UTF-8 in a header, the query or the body
	add := func(status int, c ...string) { codes[status] = append(codes[status], c...) }
	hasPath := pathParam.MatchString(rt.Path)
	if rt.Request != nil {
		add(http.StatusBadRequest, "empty_body", "malformed_json", "invalid_type", "unknown_field", "duplicate_field", "invalid_fields")
		add(http.StatusRequestEntityTooLarge, "body_too_large")
		add(http.StatusUnsupportedMediaType, "unsupported_media_type")
	}
	if rt.Consumes != "" {
		add(http.StatusRequestEntityTooLarge, "body_too_large")
	}
	for _, q := range rt.Query {
		add(http.StatusBadRequest, "invalid_query")
		if q.Name == "cursor" {
			add(http.StatusBadRequest, "invalid_cursor")
		}
	}
	if hasPath {
		add(http.StatusBadRequest, "invalid_id")
		codes[http.StatusNotFound] = nil // the thing's own *_not_found code, in the description
	}
	switch rt.Access {
	case Shop:
		add(http.StatusBadRequest, "appid_required")
		add(http.StatusNotFound, "shop_not_found")
		add(http.StatusUnauthorized, "unauthenticated")
	case Member:
		add(http.StatusUnauthorized, "unauthenticated")
		add(http.StatusForbidden, "shop_mismatch")
	case Staff:
		add(http.StatusUnauthorized, "unauthenticated")
		add(http.StatusForbidden, "permission_denied", "account_disabled", "shop_not_granted")
		add(http.StatusBadRequest, "shop_required", "invalid_shop")
		if unsafeMethod(rt.Method) {
			add(http.StatusForbidden, "csrf_failed")
		}
		if !rt.Enrolment {
			add(http.StatusForbidden, "totp_enrolment_required")
		}
		if rt.StepUp || rt.MayStepUp {
			for status, c := range StepUpErrors {
				add(status, c...)
			}
		}
	}
	if rt.Idempotent {
		add(http.StatusBadRequest, "idempotency_key_required") // missing or not 8 to 64 characters
	}
	if rt.IdempotentOptional {
		add(http.StatusBadRequest, "invalid_idempotency_key") // sent, but not 8 to 64 characters
	}
	if rt.Idempotent || rt.IdempotentOptional {
		add(http.StatusConflict, "idempotency_key_reused")
	}
	if rt.RateLimited {
		add(http.StatusTooManyRequests, "too_many_requests")
	}
	for status, c := range rt.Errors {
		add(status, c...)
	}
	for s, c := range codes {
		codes[s] = dedupe(c)
	}
	return codes
}

func dedupe(in []string) []string {
	seen, out := map[string]bool{}, in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(time.Time{}) {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if t.Implements(enumType) {
		return map[string]any{"type": "string", "enum": reflect.Zero(t).Interface().(Enum).EnumValues()}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		return g.structRef(t)
	}
	return map[string]any{}
}

// componentName is package.Type; a generic type's arguments are spelled
// the same way (httpx.Page_order.Order).
func componentName(t reflect.Type) string {
	pkg := t.PkgPath()
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		args := strings.Split(strings.TrimSuffix(name[i+1:], "]"), ",")
		for j, a := range args {
			args[j] = shortTypeName(a)
		}
		name = name[:i] + "_" + strings.Join(args, "_")
	}
	return pkg[strings.LastIndexByte(pkg, '/')+1:] + "." + name
}

// shortTypeName turns "github.com/x/y/internal/order.Order" into "order.Order".
func shortTypeName(full string) string {
	full = strings.TrimLeft(full, "*[]")
	return full[strings.LastIndexByte(full, '/')+1:]
}

func (g *schemaGen) structRef(t reflect.Type) map[string]any {
	if t.Name() == "" {
		return g.structSchema(t)
	}
	name := componentName(t)
	if g.input {
		name += ".input"
	}
	if _, seen := g.components[name]; !seen {
		g.components[name] = map[string]any{} // placeholder breaks recursion
		g.components[name] = g.structSchema(t)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// structSchema describes a struct as encoding/json writes it: embedded
// structs flattened; a field is required unless omitempty or a pointer;
// pointers, slices and maps may be null (Go writes a nil one as null).
func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.addFields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 && !g.input {
		sort.Strings(required)
		s["required"] = required
	}
	return s
}

func (g *schemaGen) addFields(t reflect.Type, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" && derefStruct(f.Type) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.addFields(ft, props, required)
			continue
		}
		name, omitempty, skip := jsonName(f)
		if skip {
			continue
		}
		props[name] = g.fieldSchema(f)
		if !omitempty && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}

func derefStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && t != reflect.TypeOf(time.Time{})
}

func (g *schemaGen) fieldSchema(f reflect.StructField) map[string]any {
	s := g.schema(f.Type)
	if enum := f.Tag.Get("enum"); enum != "" {
		s = map[string]any{"type": "string", "enum": strings.Split(enum, ",")}
	}
	doc := f.Tag.Get("doc")
	nullable := false
	switch f.Type.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		nullable = true
	}
	if doc == "" && !nullable {
		return s
	}
	if _, isRef := s["$ref"]; isRef {
		s = map[string]any{"allOf": []any{s}} // siblings of $ref are ignored in OpenAPI 3.0
	}
	if doc != "" {
		s["description"] = doc
	}
	if nullable {
		s["nullable"] = true
	}
	return s
}

func jsonName(f reflect.StructField) (name string, omitempty, skip bool) {
	if !f.IsExported() {
		return "", false, true
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false, true
	}
	parts := strings.Split(tag, ",")
	name = parts[0]
	if name == "" {
		name = f.Name
	}
	for _, o := range parts[1:] {
		if o == "omitempty" || o == "omitzero" {
			omitempty = true
		}
	}
	return name, omitempty, false
}

// ServeOpenAPI returns a handler that serves the document as JSON.
func (a *API) ServeOpenAPI(title, version string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, a.OpenAPI(title, version))
	}
}
