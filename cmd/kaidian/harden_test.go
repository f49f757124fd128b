package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// --help is a successful run (exit status 0), for every command with flags.
func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"serve", "demo", "migrate"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{cmd, "--help"}, &out, noenv); err != nil {
			t.Errorf("%s --help: %v", cmd, err)
		}
	}
}

// version names the module and the commit, from Go's build info.
func TestVersionNamesModuleAndCommit(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, noenv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"module github.com/kaidian/kaidian", "commit ", "go1."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version %q lacks %q", out.String(), want)
		}
	}
}

// The commit comes from -ldflags "-X main.commit=…" when the build sets it
// (CI builds with -buildvcs=false, which records no vcs.revision), else from
// the build info's vcs.revision, else it is "unknown".
func TestVersionCommitFromLdflagsThenBuildInfo(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Path: "github.com/kaidian/kaidian", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1111111"}, {Key: "vcs.modified", Value: "true"}}}
	novcs := &debug.BuildInfo{Main: debug.Module{Path: "github.com/kaidian/kaidian", Version: "(devel)"}}
	for _, c := range []struct {
		info   *debug.BuildInfo
		linked string
		want   string
	}{
		{novcs, "", "commit unknown,"},
		{novcs, "2222222", "commit 2222222,"},
		{vcs, "", "commit 1111111 (modified),"},
		{vcs, "2222222", "commit 2222222,"},
	} {
		if got := versionOf(c.info, true, c.linked); !strings.Contains(got, c.want) || !strings.Contains(got, "module github.com/kaidian/kaidian (devel)") {
			t.Errorf("versionOf(-X main.commit=%q, vcs %v) = %q, want %q", c.linked, c.info.Settings, got, c.want)
		}
	}
	old := commit
	commit = "3333333"
	defer func() { commit = old }()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, noenv); err != nil || !strings.Contains(out.String(), "commit 3333333,") {
		t.Fatalf("kaidian version with main.commit set: %v %q", err, out.String())
	}
}

// serve will not start without --public-url once a shop takes WeChat Pay:
// the notify_url would be http://<listen address>, which WeChat cannot reach.
func TestServeNeedsAPublicURLForWeChatPay(t *testing.T) {
	data := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--data", data}, &out, noenv); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(context.Background(), filepath.Join(data, "kaidian.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Exec(context.Background(), `INSERT INTO shops (name, appid, subject_type, mch_id, created_at, updated_at)
		VALUES ('甲', 'wx0000000000000001', 'enterprise', '1900000109', 0, 0)`)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The listen address is taken, so a serve that passes its checks stops
	// at listening, with that error, instead of serving.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	args := []string{"serve", "--data", data, "--addr", taken.Addr().String()}
	err = run(context.Background(), args, &out, noenv)
	if err == nil || !strings.Contains(err.Error(), "--public-url") {
		t.Fatalf("serve without a public URL: %v", err)
	}
	err = run(context.Background(), append(args, "--public-url", "https://shop.example.com"), &out, noenv)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("serve with a public URL must pass the check: %v", err)
	}
}
