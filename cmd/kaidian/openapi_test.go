package main

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// TestOpenAPIDocumentIsCurrent: clients/ts/openapi.json (the TypeScript
// client's types are generated from it) and docs/api.md (the API reference)
// are what `kaidian openapi` prints for this code (KAIDIAN_UPDATE_DOCS=1
// rewrites them). CI then regenerates the client's types from the file and
// fails when they differ.
func TestOpenAPIDocumentIsCurrent(t *testing.T) {
	var doc bytes.Buffer
	if err := run(context.Background(), []string{"openapi"}, &doc, os.Getenv); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc.Bytes(), []byte(`"/api/v1/orders/{id}/pay"`)) {
		t.Fatal("kaidian openapi printed no buyer routes")
	}
	files := map[string][]byte{
		"../../clients/ts/openapi.json": doc.Bytes(),
		"../../docs/api.md":             []byte(apiReference(doc.Bytes())),
	}
	for path, want := range files {
		if os.Getenv("KAIDIAN_UPDATE_DOCS") != "" {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		have, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(have, want) {
			t.Errorf("%s is not what kaidian openapi gives (%v): run KAIDIAN_UPDATE_DOCS=1 go test ./cmd/kaidian -run TestOpenAPIDocumentIsCurrent, then npm run generate in clients/ts, and commit", path, err)
		}
	}
}
