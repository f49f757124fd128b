package main

import (
	"os"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/config"
)

// TestDeployGuideListsEverySetting: docs/deploy.md's list of settings is
// the binary's own (KAIDIAN_UPDATE_DOCS=1 rewrites it).
func TestDeployGuideListsEverySetting(t *testing.T) {
	const path = "../../docs/deploy.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	const open, end = "<!-- settings: generated, checked by cmd/kaidian TestDeployGuideListsEverySetting -->\n```text\n", "```\n<!-- /settings -->"
	i, j := strings.Index(doc, open), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatal("docs/deploy.md has no settings block")
	}
	want := doc[:i+len(open)] + config.Usage() + doc[j:]
	if os.Getenv("KAIDIAN_UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Fatal("docs/deploy.md's settings are not kaidian's: run KAIDIAN_UPDATE_DOCS=1 go test ./cmd/kaidian -run TestDeployGuideListsEverySetting and commit it")
	}
}
