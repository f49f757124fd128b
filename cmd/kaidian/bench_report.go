package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kaidian/kaidian/internal/bench"
)

// benchReport is everything a run measured; --json prints it as is.
type benchReport struct {
	Machine     machineInfo       `json:"machine"`
	Settings    benchSettings     `json:"settings"`
	Database    benchTarget       `json:"database"`
	Load        loadReport        `json:"load"`
	ServerStart time.Duration     `json:"-"`
	StartSecs   float64           `json:"server_start_seconds"`
	Memory      memoryReport      `json:"memory"`
	Scenarios   []scenarioReport  `json:"scenarios"`
	Demo        *demoReport       `json:"demo_rss,omitempty"`
	Backup      *backupReport     `json:"backup,omitempty"`
	Summary     map[string]string `json:"summary"`
	targets     map[string]bench.Target
}

type machineInfo struct {
	CPU        string `json:"cpu"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Kaidian    string `json:"kaidian_version"`
}

type benchSettings struct {
	SPUs       int      `json:"spus"`
	SKUsPerSPU int      `json:"skus_per_spu"`
	Shops      int      `json:"shops"`
	Clients    int      `json:"clients"`
	Client     string   `json:"client"`
	Duration   float64  `json:"duration_seconds"`
	Warmup     float64  `json:"warmup_seconds"`
	Scenarios  []string `json:"scenarios"`
	Seed       uint64   `json:"seed"`
	Rounds     int      `json:"rounds"`
}

type loadReport struct {
	Shops      int           `json:"shops"`
	Categories int           `json:"categories"`
	SPUs       int           `json:"spus"`
	SKUs       int           `json:"skus"`
	Reused     bool          `json:"reused,omitempty"`
	Insert     time.Duration `json:"-"`
	Finish     time.Duration `json:"-"`
	InsertSecs float64       `json:"insert_seconds"`
	FinishSecs float64       `json:"finish_seconds"`
	SKUsPerSec float64       `json:"skus_per_second"`
}

type memoryReport struct {
	AfterLoad     bench.Memory `json:"after_load"`
	AfterStart    bench.Memory `json:"after_server_start"`
	ReadModelHeap int64        `json:"read_model_heap_bytes"`
	AfterRun      bench.Memory `json:"after_run"`
}

type scenarioReport struct {
	Name     string  `json:"name"`
	Clients  int     `json:"clients"`
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	Seconds  float64 `json:"seconds"`
	Rounds   int     `json:"rounds"`
	RPS      float64 `json:"requests_per_second"` // median of the rounds
	RPSMin   float64 `json:"requests_per_second_min"`
	RPSMax   float64 `json:"requests_per_second_max"`
	Ratio    float64 `json:"ratio_to_bare,omitempty"`
	// Anchor is the scenario this one is measured against besides bare
	// (orders against orders-1tx), and AnchorRatio the share of it.
	Anchor      string            `json:"anchor,omitempty"`
	AnchorRatio float64           `json:"ratio_to_anchor,omitempty"`
	P50         float64           `json:"p50_ms"`
	P90         float64           `json:"p90_ms"`
	P99         float64           `json:"p99_ms"`
	P999        float64           `json:"p999_ms"`
	Max         float64           `json:"max_ms"`
	Mean        float64           `json:"mean_ms"`
	AvgBytes    float64           `json:"avg_body_bytes"`
	SelfCPU     float64           `json:"cpu_cores_this_process"`
	OtherCPU    float64           `json:"cpu_cores_other_processes"` // -1 = unknown
	Sample      string            `json:"sample"`
	Target      string            `json:"target,omitempty"`
	Result      string            `json:"result,omitempty"` // PASS, MISS, or empty without a target
	Missed      []string          `json:"missed,omitempty"`
	Statuses    map[string]uint64 `json:"error_statuses,omitempty"`
	ErrorLog    []string          `json:"error_sample,omitempty"`
	Check       string            `json:"consistency,omitempty"` // the orders scenario's database check
	CheckOK     *bool             `json:"consistency_ok,omitempty"`
	p99         time.Duration
}

type demoReport struct {
	RSS     uint64  `json:"rss_bytes"`
	PeakRSS uint64  `json:"peak_rss_bytes"`
	Idle    float64 `json:"idle_seconds"`
	Target  string  `json:"target"`
	Result  string  `json:"result"`
}

func newBenchReport(f benchFlags) *benchReport {
	return &benchReport{
		Machine: machineInfo{CPU: cpuModel(), CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
			GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, Kaidian: version()},
		Settings: benchSettings{SPUs: f.spus, SKUsPerSPU: f.skusPerSPU, Shops: f.shops, Clients: f.clients, Client: f.client,
			Duration: f.duration.Seconds(), Warmup: f.warmup.Seconds(), Scenarios: f.scenarios, Seed: f.seed, Rounds: f.rounds},
		Summary: map[string]string{},
		targets: benchTargets,
	}
}

func cpuModel() string {
	fh, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (r *benchReport) bareRPS() float64 {
	for _, s := range r.Scenarios {
		if s.Name == "bare" {
			return s.RPS
		}
	}
	return 0
}

// addScenario reports the rounds of one scenario: the median requests/s
// (and the range), latency percentiles over every round's requests.
func (r *benchReport) addScenario(rounds []bench.Result, sample string, clients int) {
	var h bench.Histogram
	var reqs, errs, bytes uint64
	var window time.Duration
	var selfCPU, otherCPU float64
	rates := make([]float64, 0, len(rounds))
	statuses := map[string]uint64{}
	var errLog []string
	for _, res := range rounds {
		h.Merge(&res.Latency)
		reqs += res.Requests
		errs += res.Errors
		bytes += res.Bytes
		window += res.Window
		selfCPU += res.SelfCPU / float64(len(rounds))
		if otherCPU >= 0 && res.OtherCPU >= 0 {
			otherCPU += res.OtherCPU / float64(len(rounds))
		} else {
			otherCPU = -1
		}
		rates = append(rates, res.RPS())
		for st, n := range res.Statuses {
			statuses[fmt.Sprint(st)] += n
		}
		errLog = append(errLog, res.ErrSample...)
	}
	sort.Float64s(rates)
	s := scenarioReport{Name: rounds[0].Name, Clients: clients, Rounds: len(rounds), Requests: reqs, Errors: errs, Seconds: window.Seconds(),
		RPS: median(rates), RPSMin: rates[0], RPSMax: rates[len(rates)-1],
		P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()), Mean: ms(h.Mean()), Sample: sample,
		p99: h.Quantile(0.99), SelfCPU: selfCPU, OtherCPU: otherCPU}
	if reqs > 0 {
		s.AvgBytes = float64(bytes) / float64(reqs)
	}
	if len(statuses) > 0 {
		s.Statuses = statuses
	}
	if len(errLog) > 5 {
		errLog = errLog[:5]
	}
	s.ErrorLog = errLog
	r.Scenarios = append(r.Scenarios, s)
	r.judge()
}

// setCheck records the database check of scenario name; a failed check is
// a MISS.
func (r *benchReport) setCheck(name, msg string, ok bool) {
	for i := range r.Scenarios {
		if s := &r.Scenarios[i]; s.Name == name {
			s.Check, s.CheckOK = msg, &ok
		}
	}
	r.judge()
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// judge fills ratios and PASS/MISS; the bare ceiling may come later in the
// list than the scenarios measured against it.
func (r *benchReport) judge() {
	bare := r.bareRPS()
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		if bare > 0 {
			s.Ratio = s.RPS / bare
		}
		if a, ok := scenarioAnchors[s.Name]; ok {
			if rps := r.rpsOf(a); rps > 0 {
				s.Anchor, s.AnchorRatio = a, s.RPS/rps
			}
		}
		if s.Name == "orders-backup" && s.AnchorRatio > 0 {
			// Issue 17: a backup running keeps at least 80% of the orders.
			met := s.AnchorRatio >= 0.8 && (s.CheckOK == nil || *s.CheckOK)
			s.Target, s.Result = "≥ 80% of orders without a backup", map[bool]string{true: "PASS", false: "MISS"}[met]
			r.Summary[s.Name] = s.Result
			continue
		}
		t, ok := r.targets[s.Name]
		if s.Name == "orders" {
			t, ok = ordersTargets[r.Database.Engine]
		}
		if !ok || t.Zero() {
			continue
		}
		met, missed := t.Met(s.RPS, bare, s.p99, s.Errors)
		if s.CheckOK != nil && !*s.CheckOK {
			met, missed = false, append(missed, "database check failed")
		}
		s.Target, s.Missed, s.Result = t.String(), missed, map[bool]string{true: "PASS", false: "MISS"}[met]
		r.Summary[s.Name] = s.Result
	}
}

// scenarioAnchors names each scenario's anchor other than bare.
var scenarioAnchors = map[string]string{"orders": "orders-1tx", "orders-backup": "orders"}

// rpsOf is the requests/s of the named scenario, 0 if it did not run.
func (r *benchReport) rpsOf(name string) float64 {
	for _, s := range r.Scenarios {
		if s.Name == name {
			return s.RPS
		}
	}
	return 0
}

func (r *benchReport) finish() {
	r.judge()
	r.StartSecs = r.ServerStart.Seconds()
	r.Load.InsertSecs, r.Load.FinishSecs = r.Load.Insert.Seconds(), r.Load.Finish.Seconds()
	if r.Load.Insert > 0 {
		r.Load.SKUsPerSec = float64(r.Load.SKUs) / r.Load.Insert.Seconds()
	}
	if r.Demo != nil {
		r.Summary["demo-rss"] = r.Demo.Result
	}
}

func (r *benchReport) writeJSON(w io.Writer) error {
	r.finish()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func mb(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (r *benchReport) writeText(w io.Writer) {
	r.finish()
	m, s := r.Machine, r.Settings
	fmt.Fprintf(w, "kaidian bench %s: %s, %d CPUs (GOMAXPROCS %d), %s %s\n", m.Kaidian, m.CPU, m.CPUs, m.GOMAXPROCS, m.GoVersion, m.OS)
	if r.Database.Engine != "" {
		l := r.Load
		fmt.Fprintf(w, "catalog: %d SPUs × %d = %d SKUs, %d shop(s), %d categories; %s (%s)\n",
			l.SPUs, s.SKUsPerSPU, l.SKUs, l.Shops, l.Categories, r.Database.Engine, r.Database.Where)
		if l.Reused {
			fmt.Fprintf(w, "load:    reused from an earlier run\n")
		} else {
			fmt.Fprintf(w, "load:    %s to generate and insert (%.0f SKUs/s), %s to finish (%s)\n",
				l.Insert.Round(10*time.Millisecond), l.SKUsPerSec, l.Finish.Round(10*time.Millisecond),
				map[string]string{"sqlite": "WAL checkpoint", "postgres": "sequences, VACUUM ANALYZE"}[r.Database.Engine])
		}
		fmt.Fprintf(w, "start:   server.New (migrate, read model + search index) %s\n", r.ServerStart.Round(time.Millisecond))
		mem := r.Memory
		fmt.Fprintf(w, "memory:  after load: heap in use %s, RSS %s; after server.New: heap in use %s (read model %s), RSS %s (peak %s while starting); after the run: RSS %s, peak %s\n",
			mb(mem.AfterLoad.HeapInuse), mb(mem.AfterLoad.RSS), mb(mem.AfterStart.HeapInuse),
			mb(uint64(max(mem.ReadModelHeap, 0))), mb(mem.AfterStart.RSS), mb(mem.AfterStart.PeakRSS), mb(mem.AfterRun.RSS), mb(mem.AfterRun.PeakRSS))
		fmt.Fprintf(w, "         (the load generator shares this process; the figures after the run include its connections and buffers)\n")
		fmt.Fprintf(w, "clients: %d %s keep-alive clients over loopback TCP, %s measured after %s warmup per scenario",
			s.Clients, s.Client, time.Duration(s.Duration*float64(time.Second)), time.Duration(s.Warmup*float64(time.Second)))
		if s.Rounds > 1 {
			fmt.Fprintf(w, ", %d interleaved rounds: requests/s is the median round, latencies are over all rounds", s.Rounds)
		}
		fmt.Fprint(w, "\n\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
		rangeHead := ""
		if s.Rounds > 1 {
			rangeHead = fmt.Sprintf("min–max of %d\t", s.Rounds)
		}
		fmt.Fprintln(tw, "scenario\trequests/s\t"+rangeHead+"vs bare\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\tbody B\tCPU bench\tCPU others\t")
		for _, sc := range r.Scenarios {
			ratio := "-"
			if sc.Ratio > 0 {
				ratio = fmt.Sprintf("%.1f%%", sc.Ratio*100)
			}
			others := "?"
			if sc.OtherCPU >= 0 {
				others = fmt.Sprintf("%.2f", sc.OtherCPU)
			}
			rng := ""
			if s.Rounds > 1 {
				rng = fmt.Sprintf("%.0f–%.0f\t", sc.RPSMin, sc.RPSMax)
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%s%s\t%.2f\t%.2f\t%.2f\t%.1f\t%d\t%.0f\t%.2f\t%s\t\n", sc.Name, sc.RPS, rng, ratio, sc.P50, sc.P99, sc.P999,
				sc.Max, sc.Errors, sc.AvgBytes, sc.SelfCPU, others)
		}
		tw.Flush()
		note := ""
		if r.Database.Engine == "postgres" {
			note = ", which includes the PostgreSQL server"
		}
		fmt.Fprintf(w, "(CPU columns: cores used during the window by this process, servers and clients together, and by every other process%s; %d in all)\n\n", note, m.CPUs)
		for _, sc := range r.Scenarios {
			line := fmt.Sprintf("%-9s %s", sc.Name, sc.Sample)
			if sc.Result != "" {
				line = fmt.Sprintf("%-9s %-4s target %s", sc.Name, sc.Result, sc.Target)
				if len(sc.Missed) > 0 {
					line += " — missed: " + strings.Join(sc.Missed, "; ")
				}
				line += "; " + sc.Sample
			}
			fmt.Fprintln(w, line)
			if sc.Anchor != "" {
				fmt.Fprintf(w, "          %.1f%% of %s (%.0f/s) in the same run\n", sc.AnchorRatio*100, sc.Anchor, sc.RPS/sc.AnchorRatio)
			}
			if sc.Clients != s.Clients {
				fmt.Fprintf(w, "          (%d clients)\n", sc.Clients)
			}
			if sc.Check != "" {
				fmt.Fprintf(w, "          database check: %s\n", sc.Check)
			}
			if sc.Errors > 0 {
				keys := make([]string, 0, len(sc.Statuses))
				for k := range sc.Statuses {
					keys = append(keys, k+"×"+fmt.Sprint(sc.Statuses[k]))
				}
				sort.Strings(keys)
				fmt.Fprintf(w, "          errors: statuses %v, e.g. %v\n", keys, sc.ErrorLog)
			}
		}
	}
	if b := r.Backup; b != nil {
		fmt.Fprintf(w, "backup    database %s: %d backups at pace %.2f during orders-backup, the last %.1f s, %s sealed, %d rows; its restore into a scratch database %.1f s\n",
			mb(uint64(b.DatabaseBytes)), b.Backups, b.Pace, b.Seconds[len(b.Seconds)-1], mb(uint64(b.FileBytes)), b.Rows, b.RestoreSeconds)
	}
	if d := r.Demo; d != nil {
		fmt.Fprintf(w, "demo-rss  %-4s target %s; `kaidian demo` RSS after idling %.0fs: %s = %.1f MB (peak %s)\n",
			d.Result, d.Target, d.Idle, mb(d.RSS), float64(d.RSS)/1e6, mb(d.PeakRSS))
	}
}

// sampleScenario sends a few requests of sc one at a time and checks the
// answers make sense, so that a run never measures error pages.
func sampleScenario(ctx context.Context, c *http.Client, sc bench.Scenario, seed uint64) (string, error) {
	r := mrand.New(mrand.NewPCG(seed, 0xfeed))
	const n = 200
	var skus, items, hits int
	for range n {
		req := sc.Next(r)
		hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, sc.Base+req.Path, nil)
		if err != nil {
			return "", err
		}
		if req.AppID != "" {
			hreq.Header.Set("X-Appid", req.AppID)
		}
		resp, err := c.Do(hreq)
		if err != nil {
			return "", err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s: %d %s", req.Path, resp.StatusCode, body)
		}
		var v struct {
			SKUs  []json.RawMessage `json:"skus"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return "", fmt.Errorf("GET %s: %v", req.Path, err)
		}
		skus += len(v.SKUs)
		items += len(v.Items)
		if len(v.Items) > 0 {
			hits++
		}
	}
	switch sc.Name {
	case "detail":
		if skus == 0 {
			return "", fmt.Errorf("products have no SKUs")
		}
		return fmt.Sprintf("%d sampled products have %.1f SKUs each", n, float64(skus)/n), nil
	case "category", "search":
		if hits == 0 {
			return "", fmt.Errorf("no %s request found anything", sc.Name)
		}
		return fmt.Sprintf("%d sampled pages: %.0f%% non-empty, %.1f items each", n, float64(hits)*100/n, float64(items)/n), nil
	}
	return fmt.Sprintf("%d-byte fixed JSON body", len(bench.BareBody)), nil
}
