package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/moderation"
	"github.com/kaidian/kaidian/internal/platform/db"
)

func writeRules(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.tsv")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func moderate(t *testing.T, args []string, stdin string) ([]moderateLine, error) {
	t.Helper()
	var out bytes.Buffer
	err := runModerate(context.Background(), args, strings.NewReader(stdin), &out, noenv)
	var lines []moderateLine
	dec := json.NewDecoder(&out)
	for dec.More() {
		var l moderateLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("output is not JSON lines: %v\n%s", err, out.String())
		}
		lines = append(lines, l)
	}
	return lines, err
}

func TestModerateVerdictsAndPositions(t *testing.T) {
	rules := writeRules(t, "# test rules\n微信\tads\tblock\tpinyin,initials\n代开发票\tfraud\treview\n傻逼\tabuse\tblock\n")
	in := "这件连衣裙很好看\r\n加我微@信聊\n代開發票，量大從優\n\n加 wei xin 送券\nＷＸ：abc 傻 逼"
	got, err := moderate(t, []string{"--rules", rules}, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("%d output lines, want 6: %+v", len(got), got)
	}
	want := []struct {
		verdict string
		spans   []string
	}{
		{"pass", nil},
		{"block", []string{"微@信"}},
		{"review", []string{"代開發票"}},
		{"pass", nil},
		{"block", []string{"wei xin"}},
		{"block", []string{"ＷＸ", "傻 逼"}},
	}
	lines := strings.Split(strings.ReplaceAll(in, "\r\n", "\n"), "\n")
	for i, w := range want {
		g := got[i]
		if g.Line != i+1 || g.Verdict != w.verdict || len(g.Matches) != len(w.spans) {
			t.Errorf("line %d: %+v, want %s %q", i+1, g, w.verdict, w.spans)
			continue
		}
		for j, m := range g.Matches {
			if lines[i][m.Start:m.End] != w.spans[j] || m.Text != w.spans[j] {
				t.Errorf("line %d match %d: [%d,%d) %q, want %q", i+1, j, m.Start, m.End, m.Text, w.spans[j])
			}
			if string([]rune(lines[i])[m.StartChar:m.EndChar]) != w.spans[j] {
				t.Errorf("line %d: chars [%d,%d) wrong", i+1, m.StartChar, m.EndChar)
			}
		}
	}
	m := got[1].Matches[0]
	if m.Word != "微信" || m.Category != "ads" || m.Level != "block" || m.Start != 6 || m.StartChar != 2 {
		t.Errorf("match = %+v", m)
	}
	if got[0].Matches == nil {
		t.Error("matches must be [] rather than null")
	}
}

func TestModerateBadRuleFile(t *testing.T) {
	rules := writeRules(t, "微信\tads\tblock\n赌博\tfraud\n@@\tads\tblock\nok\tads\tmaybe\n")
	out, err := moderate(t, []string{"--rules", rules}, "微信\n")
	if err == nil || len(out) != 0 {
		t.Fatalf("bad rule file accepted: %v %+v", err, out)
	}
	for _, want := range []string{"3 bad line(s)", "line 2:", "line 3:", "line 4:", "maybe"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "line 1:") {
		t.Errorf("good line reported: %v", err)
	}
	if _, err := moderate(t, []string{"--rules", filepath.Join(t.TempDir(), "missing")}, ""); err == nil {
		t.Fatal("missing rule file accepted")
	}
	// Through the command dispatch too: the error is what makes the exit status non-zero.
	if err := run(context.Background(), []string{"moderate", "--rules", rules}, &bytes.Buffer{}, noenv); err == nil {
		t.Fatal("run moderate with a bad rule file succeeded")
	}
}

func TestSplitFlags(t *testing.T) {
	own, rest := splitFlags([]string{"--rules", "f", "--db=x", "-shop=3", "--data", "d"}, "rules", "shop")
	if strings.Join(own, " ") != "--rules f -shop=3" || strings.Join(rest, " ") != "--db=x --data d" {
		t.Fatalf("own %q rest %q", own, rest)
	}
}

func TestModerateConfiguredRules(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	if err := run(ctx, []string{"migrate", "--data", data}, &bytes.Buffer{}, noenv); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, filepath.Join(data, "kaidian.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := moderation.NewService(d, nil, slog.New(slog.DiscardHandler))
	if _, err := svc.AddRule(ctx, 0, moderation.NewRule{Scope: "base", Word: "赌博", Category: "gambling", Level: "block"}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	got, err := moderate(t, []string{"--data", data}, "网上賭博\n你好\n")
	if err != nil || len(got) != 2 || got[0].Verdict != "block" || got[0].Matches[0].Text != "賭博" || got[1].Verdict != "pass" {
		t.Fatalf("%+v %v", got, err)
	}
}
