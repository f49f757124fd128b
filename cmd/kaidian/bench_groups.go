package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/demo"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
	"github.com/kaidian/kaidian/internal/promotion"
	"github.com/kaidian/kaidian/internal/server"
)

const benchGroupsUsage = `kaidian bench-groups: the group-buying settlement benchmark

Sets up --groups groups of --members paid members each (every order placed
and paid through the in-process WeChat Pay sandbox, as a buyer would), on a
deal of 2 people ¥99 / 3 people ¥79 / 5 people ¥59. Then every group's time runs out at
once and the clock starts: the groups are closed at their tier and each
member's ¥20 difference is refunded through the sandbox. It stops when the
sandbox has accepted every refund, and checks that each member was refunded
exactly once.

Flags:
`

type groupsFlags struct {
	db           string
	groups, size int
	workers      int
	setupWorkers int
	sqliteSync   string
	keep         bool
	profile      string
	json         bool
}

// groupsReport is what --json prints.
type groupsReport struct {
	Engine       string  `json:"engine"`
	Groups       int     `json:"groups"`
	Refunds      int64   `json:"refunds_accepted"`
	CloseSeconds float64 `json:"close_seconds"`
	Seconds      float64 `json:"seconds"` // from the groups falling due to the last refund accepted
	CheckOK      bool    `json:"check_ok"`
}

func runBenchGroups(ctx context.Context, args []string, stdout io.Writer) error {
	var f groupsFlags
	fs := flag.NewFlagSet("bench-groups", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { fmt.Fprint(stdout, benchGroupsUsage); fs.PrintDefaults() }
	fs.StringVar(&f.db, "db", "", "postgres://… URL (a fresh schema is made in it) or a SQLite file; default: a fresh SQLite file")
	fs.IntVar(&f.groups, "groups", 10_000, "groups closing at once")
	fs.IntVar(&f.size, "members", 3, "paid members per group (3 reaches the ¥79 tier)")
	fs.IntVar(&f.workers, "workers", 4, "job workers sending refunds")
	fs.IntVar(&f.setupWorkers, "setup-workers", 8, "concurrent buyers during setup")
	fs.StringVar(&f.sqliteSync, "sqlite-sync", "normal", "SQLite synchronous setting")
	fs.BoolVar(&f.keep, "keep", false, "keep the database")
	fs.StringVar(&f.profile, "profile", "", "write a CPU profile of the settlement to this file")
	fs.BoolVar(&f.json, "json", false, "print a JSON report on standard output (the text goes to standard error)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out := stdout
	if f.json {
		out = os.Stderr
	}
	logf := stderrLog
	dataDir, target, cleanup, err := scratchDatabase(ctx, "kaidian-bench-groups-", f.db, f.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	pay, err := paysandbox.New()
	if err != nil {
		return err
	}
	defer pay.Close()
	cfg, err := config.Load("bench-groups", []string{"--data", dataDir, "--db", target.dsn, "--sqlite-sync", f.sqliteSync,
		"--log-level", "error", "--wechatpay-api", base + demo.PaySandboxMount, "--public-url", base,
		"--pay-query-after", "1h"}, func(string) string { return "" })
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Extra: map[string]http.Handler{
		demo.PaySandboxMount + "/": http.StripPrefix(demo.PaySandboxMount, pay)}})
	if err != nil {
		return err
	}
	defer srv.Close()
	// Serve HTTP only (payment notifications, the sandbox); the benchmark
	// runs the jobs itself.
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	if _, err := demo.Seed(ctx, srv); err != nil {
		return err
	}
	if err := demo.ConnectPay(ctx, srv, pay); err != nil {
		return err
	}
	g := &groupWorld{srv: srv, pay: pay, appid: demo.AppID}
	if err := g.setup(ctx, f, logf); err != nil {
		return err
	}
	fmt.Fprintf(out, "group-buying settlement on %s (%s), %d cores, %s: %d groups × %d paid members\n",
		srv.DB.Engine, target.Where, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"), f.groups, f.size)
	if f.profile != "" {
		if stop := cpuProfiler(f.profile, logf)(); stop != nil {
			defer stop()
		}
	}
	rep, err := g.settleAll(ctx, out, f)
	if err != nil || !f.json {
		return err
	}
	rep.Engine = string(srv.DB.Engine)
	return writeJSON(stdout, rep)
}

type groupWorld struct {
	srv    *server.Server
	pay    *paysandbox.Sandbox
	appid  string
	shopID int64
	dealID int64
	orders []int64
}

// setup creates the deal, the buyers and their paid orders.
func (g *groupWorld) setup(ctx context.Context, f groupsFlags, logf func(string, ...any)) error {
	d := g.srv.DB
	var skuID int64
	if err := d.QueryRow(ctx, `SELECT k.shop_id, k.id FROM skus k JOIN spus p ON p.id = k.spu_id
		WHERE p.on_shelf = TRUE AND k.deleted_at IS NULL ORDER BY k.id LIMIT 1`).Scan(&g.shopID, &skuID); err != nil {
		return err
	}
	n := f.groups * f.size
	if _, err := d.Exec(ctx, `UPDATE skus SET stock = ? WHERE id = ?`, n+1, skuID); err != nil {
		return err
	}
	now := time.Now()
	deal, err := g.srv.Promos.CreateDeal(ctx, g.shopID, promotion.NewDeal{SKUID: skuID, Title: "拼团基准",
		Tiers:           []promotion.Tier{{Size: 2, Price: 9900}, {Size: 3, Price: 7900}, {Size: 5, Price: 5900}},
		DurationMinutes: 7 * 1440, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(24 * time.Hour)})
	if err != nil {
		return err
	}
	g.dealID = deal.ID
	tag := strconv.FormatInt(now.UnixNano(), 36)
	if _, err := d.Exec(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO members (shop_id, openid, unionid, created_at, updated_at)
		SELECT ?, ? || CAST(i AS TEXT), '', ?, ? FROM n`, n, g.shopID, "group-"+tag+"-", now.UnixMilli(), now.UnixMilli()); err != nil {
		return err
	}
	var members []int64
	rows, err := d.Query(ctx, `SELECT id FROM members WHERE shop_id = ? AND openid LIKE ? ORDER BY id`, g.shopID, "group-"+tag+"-%")
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		members = append(members, id)
	}
	rows.Close()
	logf("setup: %d buyers place and pay %d orders through the pay sandbox", n, n)
	g.orders = make([]int64, n)
	var next, done atomic.Int64
	errc := make(chan error, f.setupWorkers)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range f.setupWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				grp := int(next.Add(1) - 1)
				if grp >= f.groups {
					return
				}
				if err := g.fillGroup(ctx, grp, f.size, members); err != nil {
					errc <- err
					return
				}
				if c := done.Add(1); c%1000 == 0 {
					logf("  %d groups filled (%.0f orders/s)", c, float64(c)*float64(f.size)/time.Since(t0).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	return nil
}

// fillGroup opens group grp and fills it, each member paying through the
// sandbox.
func (g *groupWorld) fillGroup(ctx context.Context, grp, size int, members []int64) error {
	var groupID int64
	for k := range size {
		i := grp*size + k
		in := order.CreateInput{Address: order.Address{Name: "张三", Phone: "13800138000", Province: "浙江省", City: "杭州市", Detail: "文三路 1 号"}}
		if k == 0 {
			in.GroupDealID = g.dealID
		} else {
			in.GroupID = groupID
		}
		o, err := g.srv.Orders.Create(ctx, g.shopID, members[i], fmt.Sprintf("group-bench-%08d", i), in)
		if err != nil {
			return fmt.Errorf("order %d: %w", i, err)
		}
		groupID, g.orders[i] = o.GroupID, o.ID
		params, err := g.srv.Payments.Pay(ctx, g.shopID, members[i], o.ID)
		if err != nil {
			return fmt.Errorf("prepay %d: %w", i, err)
		}
		d, err := g.pay.PayWithParams(ctx, g.appid, paysandbox.PaymentParams{TimeStamp: params.TimeStamp, NonceStr: params.NonceStr,
			Package: params.Package, SignType: params.SignType, PaySign: params.PaySign})
		if err != nil || !d.Delivered {
			return fmt.Errorf("pay %d: %v %+v", i, err, d)
		}
	}
	return nil
}

// drainJobs runs every due job with workers goroutines until none is
// left (each as a serve process's worker does, jobs.Queue.WorkUntilIdle),
// and returns how many times the queue itself failed.
func (g *groupWorld) drainJobs(ctx context.Context, workers int) int64 {
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := g.srv.Jobs.WorkUntilIdle(ctx); err == nil {
					return
				}
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	return failed.Load()
}

// settleAll makes every group due, closes them all and runs the refund
// jobs with workers until the sandbox has every refund.
func (g *groupWorld) settleAll(ctx context.Context, out io.Writer, f groupsFlags) (groupsReport, error) {
	d := g.srv.DB
	// What the setup left due (the "paid" messages of the members'
	// payments, sent when they pay in a shop that runs its jobs) is not
	// the settlement's work: it goes before the clock starts.
	if n := g.drainJobs(ctx, f.workers); n > 0 {
		return groupsReport{}, fmt.Errorf("%d job errors before the groups fell due", n)
	}
	if _, err := d.Exec(ctx, `UPDATE group_buys SET expires_at = 1 WHERE deal_id = ?`, g.dealID); err != nil {
		return groupsReport{}, err
	}
	t0 := time.Now()
	closed := 0
	for {
		n, err := g.srv.Promos.CloseDueGroups(ctx)
		if err != nil {
			return groupsReport{}, err
		}
		if n == 0 {
			break
		}
		closed += n
	}
	tClosed := time.Since(t0)
	failed := g.drainJobs(ctx, f.workers)
	total := time.Since(t0)
	var refunds, sent, members, settled, wrong int64
	err := d.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM refunds r JOIN orders o ON o.id = r.order_id JOIN group_buys gb ON gb.id = o.group_id WHERE gb.deal_id = ?),
		(SELECT COUNT(*) FROM refunds r JOIN orders o ON o.id = r.order_id JOIN group_buys gb ON gb.id = o.group_id WHERE gb.deal_id = ? AND r.status IN ('processing','succeeded')),
		(SELECT COUNT(*) FROM group_members m JOIN group_buys gb ON gb.id = m.group_id WHERE gb.deal_id = ? AND m.status = 'paid'),
		(SELECT COUNT(*) FROM group_members m JOIN group_buys gb ON gb.id = m.group_id WHERE gb.deal_id = ? AND m.settled = TRUE AND m.refund_amount = 2000),
		(SELECT COUNT(*) FROM (SELECT r.order_id FROM refunds r JOIN orders o ON o.id = r.order_id JOIN group_buys gb ON gb.id = o.group_id
			WHERE gb.deal_id = ? GROUP BY r.order_id HAVING COUNT(*) <> 1 OR SUM(r.amount) <> 2000) x)`,
		g.dealID, g.dealID, g.dealID, g.dealID, g.dealID).Scan(&refunds, &sent, &members, &settled, &wrong)
	if err != nil {
		return groupsReport{}, err
	}
	verdict := "OK"
	if refunds != members || sent != members || settled != members || wrong != 0 || closed != f.groups {
		verdict = "FAILED"
	}
	fmt.Fprintf(out, "closed %d groups in %s; %d refunds accepted by the sandbox %s after the groups fell due (%d job errors)\n",
		closed, tClosed.Round(time.Millisecond), sent, total.Round(time.Millisecond), failed)
	fmt.Fprintf(out, "check: %s: %d paid members, %d settled at ¥20 back, %d refunds, %d orders with other than exactly one ¥20 refund\n",
		verdict, members, settled, refunds, wrong)
	return groupsReport{Groups: closed, Refunds: sent, CloseSeconds: tClosed.Seconds(), Seconds: total.Seconds(), CheckOK: verdict == "OK"}, nil
}
