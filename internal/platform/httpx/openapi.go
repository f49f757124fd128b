package httpx

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// OpenAPI builds the OpenAPI 3 document of every registered route. Schemas
// come from the Go types of Route.Request and Route.Response, so the document
// cannot drift from the code.
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
	g.components["Error"] = g.schema(reflect.TypeOf(ErrorBody{}))
	return map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": title, "version": version},
		"paths":   paths,
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

type schemaGen struct{ components map[string]any }

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
			"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Request))}}}
	}
	switch rt.Access {
	case Shop:
		op["security"] = []map[string][]string{{"appid": {}}, {"member": {}}}
	case Member:
		op["security"] = []map[string][]string{{"member": {}}}
	case Staff:
		op["security"] = []map[string][]string{{"staff": {}}}
		op["x-permission"] = string(rt.Perm)
	}
	return op
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
		out = append(out, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": q.Type}})
	}
	return out
}

func (g *schemaGen) responses(rt Route) map[string]any {
	ok := map[string]any{"description": "success"}
	if rt.Response != nil {
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Response))}}
	}
	errRef := map[string]any{"description": "error", "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	return map[string]any{strconv.Itoa(rt.Status): ok, "4XX": errRef, "5XX": errRef}
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(time.Time{}) {
		return map[string]any{"type": "string", "format": "date-time"}
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
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		return g.structRef(t)
	}
	return map[string]any{}
}

func (g *schemaGen) structRef(t reflect.Type) map[string]any {
	name := t.Name()
	if name == "" {
		return g.structSchema(t)
	}
	if _, seen := g.components[name]; !seen {
		g.components[name] = map[string]any{} // placeholder breaks recursion
		g.components[name] = g.structSchema(t)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, skip := jsonName(f)
		if skip {
			continue
		}
		s := g.schema(f.Type)
		if doc := f.Tag.Get("doc"); doc != "" {
			s = map[string]any{"allOf": []any{s}, "description": doc}
		}
		props[name] = s
	}
	return map[string]any{"type": "object", "properties": props}
}

func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", true
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", true
	}
	name := strings.Split(tag, ",")[0]
	if name == "" {
		name = f.Name
	}
	return name, false
}

// ServeOpenAPI returns a handler that serves the document as JSON.
func (a *API) ServeOpenAPI(title, version string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, a.OpenAPI(title, version))
	}
}
