package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/bench"
)

// processesRun is the scale-out HTTP run: --serve-processes `kaidian serve`
// processes of this binary on the benchmark's PostgreSQL database (sharing
// its data folder, so its secret key: a claim token issued here is good on
// every process), each request going to the next process in turn, as a
// load balancer without sticky sessions sends them. The anchor is GET
// /healthz on the same processes with the same connections, in the same
// run.
func (w *flashWorld) processesRun(ctx context.Context, out io.Writer, dataDir, dsn string, f flashFlags, rep *flashReport) error {
	sale, err := w.newSale(ctx, "processes", f.httpUnits)
	if err != nil {
		return err
	}
	claim, err := w.claimRequests(ctx, sale, f.httpBuyers)
	if err != nil {
		return err
	}
	bases, metrics, stop, err := startServeProcesses(ctx, f.processes, dataDir, dsn)
	defer stop()
	if err != nil {
		return err
	}
	client := bench.NewClient(f.clients)
	// Warm the connections and each process's first request paths.
	burst(ctx, client, f.clients, 4*f.clients, func(int) bench.Request { return bench.Request{Path: "/healthz"} }, bases...)
	health := burst(ctx, client, f.clients, f.httpBuyers, func(int) bench.Request { return bench.Request{Path: "/healthz"} }, bases...)
	profiled := profileProcesses(ctx, metrics, f.profile)
	res := burst(ctx, client, f.clients, f.httpBuyers, claim, bases...)
	profiled()
	res.name, res.units = fmt.Sprintf("http, %d serve processes", f.processes), f.httpUnits
	res.confirmed = res.outcomes["201"]
	if res.check, err = checkSale(ctx, w.srv.DB, sale, f.httpUnits, res.confirmed); err != nil {
		return err
	}
	fmt.Fprintf(out, "GET /healthz on %d serve processes: %d requests in %s = %.0f requests/s, p50 %s p99 %s, outcomes %v\n", f.processes,
		health.buyers, health.wall.Round(time.Millisecond), health.requestsPerSecond,
		health.lat.Quantile(0.5).Round(time.Microsecond), health.lat.Quantile(0.99).Round(time.Microsecond), health.outcomes)
	fmt.Fprintln(out, res)
	fmt.Fprintf(out, "http claims on %d serve processes: %.0f requests/s = %.1f%% of GET /healthz on the same processes\n",
		f.processes, res.requestsPerSecond, 100*res.requestsPerSecond/health.requestsPerSecond)
	rep.Processes = f.processes
	rep.ProcessesRun, rep.Healthz = res.report(res.requestsPerSecond), health.report(health.requestsPerSecond)
	return nil
}

// profileProcesses asks each serve process (at its metrics address) for
// a CPU profile of the next profileSeconds and writes them to
// path.proc<i>; the returned function waits for them. No path: nothing.
func profileProcesses(ctx context.Context, metrics []string, path string) func() {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{}, len(metrics))
	for i, base := range metrics {
		go func() {
			defer func() { done <- struct{}{} }()
			if err := fetchProfile(ctx, base, fmt.Sprintf("%s.proc%d", path, i)); err != nil {
				stderrLog("profile of process %d: %v", i, err)
			}
		}()
	}
	return func() {
		for range metrics {
			<-done
		}
	}
}

// profileSeconds is how long each serve process is profiled: a burst of
// 20,000 buyers or more lasts about that long on 2 cores.
const profileSeconds = 5

func fetchProfile(ctx context.Context, base, path string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/debug/pprof/profile?seconds="+strconv.Itoa(profileSeconds), nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, res.Body); err != nil {
		out.Close()
		return err
	}
	stderrLog("wrote %s", path)
	return out.Close()
}

// loopbackAddr is a loopback address nothing listens on (yet).
func loopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServeProcesses runs n `kaidian serve` processes of this executable
// on dsn and waits until each answers /readyz; it returns their base URLs
// and their metrics addresses' (/debug/pprof). stop kills them.
func startServeProcesses(ctx context.Context, n int, dataDir, dsn string) (bases, metrics []string, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, func() {}, err
	}
	var cmds []*exec.Cmd
	stop = func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	for range n {
		addr, err := loopbackAddr()
		if err != nil {
			return nil, nil, stop, err
		}
		metricsAddr, err := loopbackAddr()
		if err != nil {
			return nil, nil, stop, err
		}
		cmd := exec.CommandContext(ctx, exe, "serve", "--db", dsn, "--data", dataDir, "--addr", addr, "--public-url", "http://"+addr, "--log-level", "error",
			"--metrics-addr", metricsAddr, "--require-totp=false", // the benchmark's owner acts without an authenticator
			// Every buyer of the run comes from 127.0.0.1.
			"--flash-per-address", strconv.Itoa(1_000_000_000))
		// When this is a test binary, its TestMain acts as kaidian with this set.
		cmd.Env = append(os.Environ(), "KAIDIAN_TEST_SERVE=1")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, nil, stop, err
		}
		cmds = append(cmds, cmd)
		bases, metrics = append(bases, "http://"+addr), append(metrics, "http://"+metricsAddr)
	}
	for _, base := range bases {
		if err := waitReadyURL(base, 60*time.Second); err != nil {
			return nil, nil, stop, err
		}
	}
	return bases, metrics, stop, nil
}

func waitReadyURL(base string, within time.Duration) error {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
	}
	return fmt.Errorf("bench-flash: %s did not become ready", base)
}
