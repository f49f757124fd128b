package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/server"
)

// runOpenAPI prints the OpenAPI document the server serves at
// /openapi.json, without serving: the routes are registered the way serve
// registers them, on a throwaway SQLite database in a temporary folder.
// --markdown prints the API reference (docs/api.md) made from it instead.
func runOpenAPI(ctx context.Context, args []string, stdout io.Writer) error {
	markdown := len(args) == 1 && args[0] == "--markdown"
	if len(args) > 0 && !markdown {
		return fmt.Errorf("usage: kaidian openapi [--markdown]")
	}
	doc, err := openAPIDocument(ctx)
	if err != nil {
		return err
	}
	if markdown {
		_, err = io.WriteString(stdout, apiReference(doc))
		return err
	}
	_, err = stdout.Write(doc)
	return err
}

// openAPIDocument is the document as indented JSON (keys sorted, a final
// newline), the bytes clients/ts/openapi.json holds.
func openAPIDocument(ctx context.Context) ([]byte, error) {
	dir, err := os.MkdirTemp("", "kaidian-openapi-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg, err := config.Load("openapi", []string{"--data", dir}, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	b, err := json.MarshalIndent(srv.API.OpenAPI("kaidian API", server.Version), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
