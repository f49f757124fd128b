package demo_test

import (
	"os"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/demo"
)

const readmeMarker = "<!-- walkthrough: generated from internal/demo.Steps"

// TestREADMEWalkthroughIsTheDemos: the README shows exactly the commands
// the demo prints (and cmd/kaidian's TestDemoFollowsTheREADMEWalkthrough
// runs). Set KAIDIAN_UPDATE_README=1 to rewrite the README's block.
func TestREADMEWalkthroughIsTheDemos(t *testing.T) {
	const path = "../../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	start := strings.Index(readme, readmeMarker)
	if start < 0 {
		t.Fatal("README.md has no walkthrough block")
	}
	open := start + strings.Index(readme[start:], "```sh\n") + len("```sh\n")
	end := open + strings.Index(readme[open:], "```")
	want := demo.Commands("http://127.0.0.1:8080")
	if readme[open:end] == want {
		return
	}
	if os.Getenv("KAIDIAN_UPDATE_README") != "" {
		if err := os.WriteFile(path, []byte(readme[:open]+want+readme[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README.md's walkthrough differs from demo.Steps; run KAIDIAN_UPDATE_README=1 go test ./internal/demo. README has:\n%s\nwant:\n%s", readme[open:end], want)
}
