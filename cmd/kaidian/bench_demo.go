package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/bench"
)

// demoIdle is how long the demo idles before its RSS is read.
const demoIdle = 5 * time.Second

// measureDemoRSS runs this binary's `demo` command on a fresh data folder
// and an ephemeral port, waits for it to seed and serve, lets it idle, and
// reads its resident set size from /proc.
func measureDemoRSS(ctx context.Context, logf func(string, ...any)) (*demoReport, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kaidian-bench-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(exe, "demo", "--data", dir, "--addr", "127.0.0.1:0")
	for _, kv := range os.Environ() { // the demo's own defaults, not the caller's KAIDIAN_*
		if !strings.HasPrefix(kv, "KAIDIAN_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		seen := false
		for sc.Scan() {
			if !seen && strings.HasPrefix(sc.Text(), "data folder:") {
				seen = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, out)
		exited <- cmd.Wait()
	}()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	select {
	case <-ready:
	case err := <-exited:
		return nil, fmt.Errorf("kaidian demo exited before it was ready: %v", err)
	case <-time.After(60 * time.Second):
		stop()
		return nil, fmt.Errorf("kaidian demo was not ready after 60s")
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
	logf("demo-rss: demo pid %d is serving; idling %s", cmd.Process.Pid, demoIdle)
	sleepCtx(ctx, demoIdle)
	m, err := bench.ProcMemory(cmd.Process.Pid)
	stop()
	if err != nil {
		return nil, err
	}
	d := &demoReport{RSS: m.RSS, PeakRSS: m.PeakRSS, Idle: demoIdle.Seconds(), Target: fmt.Sprintf("RSS < %d MiB", demoRSSLimit>>20)}
	d.Result = map[bool]string{true: "PASS", false: "MISS"}[m.RSS < demoRSSLimit]
	logf("demo-rss: RSS %s (peak %s)", mb(m.RSS), mb(m.PeakRSS))
	return d, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}
