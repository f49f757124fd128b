package payment

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/wechatpay"
)

// ReconcileKind is the hourly job that reconciles, for every shop with
// WeChat Pay, the previous China-time day once WeChat has its bill (10:00).
const ReconcileKind = "payment.reconcile"

// Difference kinds.
const (
	PaidThereNotHere   = "paid_at_wechat_not_here"
	PaidHereNotThere   = "paid_here_not_at_wechat"
	PaidAmountDiffers  = "paid_amount_differs"
	RefundThereNotHere = "refund_at_wechat_not_here"
	RefundHereNotThere = "refund_here_not_at_wechat"
	RefundAmountDiffer = "refund_amount_differs"
)

// Report is one day's reconciliation.
type Report struct {
	ID           int64        `json:"id"`
	BillDate     string       `json:"bill_date" doc:"YYYY-MM-DD, China time"`
	Status       string       `json:"status" enum:"matched,differences,failed" doc:"matched, differences or failed"`
	WeChatPaid   int64        `json:"wechat_paid" doc:"fen paid according to WeChat's bill"`
	WeChatRefund int64        `json:"wechat_refund" doc:"fen refunded according to WeChat's bill"`
	OurPaid      int64        `json:"our_paid" doc:"fen"`
	OurRefund    int64        `json:"our_refund" doc:"fen"`
	Differences  int64        `json:"differences"`
	Error        string       `json:"error,omitempty"`
	CreatedAt    time.Time    `json:"created_at"`
	Items        []Difference `json:"items,omitempty"`
}

// Difference is one payment or refund on which WeChat and we disagree.
type Difference struct {
	Kind        string `json:"kind" enum:"paid_at_wechat_not_here,paid_here_not_at_wechat,paid_amount_differs,refund_at_wechat_not_here,refund_here_not_at_wechat,refund_amount_differs"`
	OutTradeNo  string `json:"out_trade_no"`
	OutRefundNo string `json:"out_refund_no,omitempty"`
	Ours        int64  `json:"ours" doc:"fen; 0 when we have none"`
	Theirs      int64  `json:"theirs" doc:"fen; 0 when WeChat has none"`
}

// ledgerDay is one side's payments (by out_trade_no) and refunds (by
// out_refund_no, with their trade number) for a day.
type ledgerDay struct {
	paid         map[string]int64
	refunds      map[string]int64
	refundTrades map[string]string
}

func newLedgerDay() ledgerDay {
	return ledgerDay{paid: map[string]int64{}, refunds: map[string]int64{}, refundTrades: map[string]string{}}
}

// Reconcile downloads WeChat's trade bill of date (China time) for shopID,
// compares it with our payments and refunds of that day and stores the
// report, replacing an earlier one of the same day.
func (s *Service) Reconcile(ctx context.Context, shopID int64, date time.Time) (Report, error) {
	day := time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, china)
	theirs, err := s.wechatDay(ctx, shopID, day)
	if err != nil {
		if errs.As(err).Kind == errs.Conflict { // not configured
			return Report{}, err
		}
		return s.store(ctx, shopID, Report{BillDate: day.Format(time.DateOnly), Status: "failed", Error: err.Error()})
	}
	ours, err := s.ourDay(ctx, shopID, day)
	if err != nil {
		return Report{}, err
	}
	r := compare(ours, theirs)
	r.BillDate = day.Format(time.DateOnly)
	return s.store(ctx, shopID, r)
}

func (s *Service) wechatDay(ctx context.Context, shopID int64, day time.Time) (ledgerDay, error) {
	client, _, err := s.clients.get(ctx, shopID)
	if err != nil {
		return ledgerDay{}, err
	}
	out := newLedgerDay()
	data, err := client.TradeBill(ctx, day.Format(time.DateOnly), true)
	if wechatpay.HasCode(err, "NO_STATEMENT_EXIST") {
		return out, nil // no trade that day
	}
	if err != nil {
		return out, err
	}
	bill, err := wechatpay.ParseTradeBill(data)
	if err != nil {
		return out, err
	}
	for _, rec := range bill.Records {
		if err := addBillRecord(out, rec); err != nil {
			return out, err
		}
	}
	return out, nil
}

// addBillRecord adds one line of the bill: a payment (SUCCESS) or a refund
// (REFUND, counted when its refund status is SUCCESS). Amounts are yuan.
func addBillRecord(d ledgerDay, rec map[string]string) error {
	switch rec["交易状态"] {
	case "SUCCESS":
		fen, err := catalog.ParseYuan(firstOf(rec, "订单金额", "应结订单金额"))
		d.paid[rec["商户订单号"]] += fen
		return err
	case "REFUND":
		if st := rec["退款状态"]; st != "" && st != "SUCCESS" {
			return nil
		}
		fen, err := catalog.ParseYuan(firstOf(rec, "申请退款金额", "退款金额"))
		d.refunds[rec["商户退款单号"]] += fen
		d.refundTrades[rec["商户退款单号"]] = rec["商户订单号"]
		return err
	}
	return nil
}

func firstOf(rec map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(rec[k]); v != "" {
			return v
		}
	}
	return "0"
}

// ourDay is our payments and successful refunds of the China-time day.
func (s *Service) ourDay(ctx context.Context, shopID int64, day time.Time) (ledgerDay, error) {
	from, to := day.UnixMilli(), day.AddDate(0, 0, 1).UnixMilli()
	out := newLedgerDay()
	rows, err := s.db.Query(ctx, `SELECT out_trade_no, amount, out_trade_no FROM payments WHERE shop_id = ? AND status IN ('paid','paid_late')
		AND channel = 'wechatpay' AND paid_at >= ? AND paid_at < ?`, shopID, from, to)
	if err != nil {
		return out, errs.Wrap("reconcile", err)
	}
	if err := collectInto(rows, func(no string, fen int64, _ string) { out.paid[no] += fen }); err != nil {
		return out, err
	}
	rows, err = s.db.Query(ctx, `SELECT r.out_refund_no, r.amount, o.order_no FROM refunds r JOIN orders o ON o.id = r.order_id
		WHERE r.shop_id = ? AND r.status = 'succeeded' AND r.succeeded_at >= ? AND r.succeeded_at < ?`, shopID, from, to)
	if err != nil {
		return out, errs.Wrap("reconcile", err)
	}
	err = collectInto(rows, func(no string, fen int64, trade string) { out.refunds[no] += fen; out.refundTrades[no] = trade })
	return out, err
}

// collectInto scans rows of (number, fen, trade number) into add.
func collectInto(rows *sql.Rows, add func(no string, fen int64, trade string)) error {
	defer rows.Close()
	for rows.Next() {
		var no, trade string
		var fen int64
		if err := rows.Scan(&no, &fen, &trade); err != nil {
			return errs.Wrap("reconcile", err)
		}
		add(no, fen, trade)
	}
	return errs.Wrap("reconcile", rows.Err())
}

// compare lists every difference between our day and WeChat's.
func compare(ours, theirs ledgerDay) Report {
	var r Report
	r.Items = []Difference{}
	diff := func(kindThere, kindHere, kindAmount string, o, t map[string]int64, trade func(string) (string, string)) {
		for no, theirAmount := range t {
			ourAmount, ok := o[no]
			tradeNo, refundNo := trade(no)
			switch {
			case !ok:
				r.Items = append(r.Items, Difference{kindThere, tradeNo, refundNo, 0, theirAmount})
			case ourAmount != theirAmount:
				r.Items = append(r.Items, Difference{kindAmount, tradeNo, refundNo, ourAmount, theirAmount})
			}
		}
		for no, ourAmount := range o {
			if _, ok := t[no]; !ok {
				tradeNo, refundNo := trade(no)
				r.Items = append(r.Items, Difference{kindHere, tradeNo, refundNo, ourAmount, 0})
			}
		}
	}
	diff(PaidThereNotHere, PaidHereNotThere, PaidAmountDiffers, ours.paid, theirs.paid, func(no string) (string, string) { return no, "" })
	refundTrade := func(no string) (string, string) {
		if t := theirs.refundTrades[no]; t != "" {
			return t, no
		}
		return ours.refundTrades[no], no
	}
	diff(RefundThereNotHere, RefundHereNotThere, RefundAmountDiffer, ours.refunds, theirs.refunds, refundTrade)
	sort.Slice(r.Items, func(i, j int) bool {
		return r.Items[i].Kind+r.Items[i].OutTradeNo+r.Items[i].OutRefundNo < r.Items[j].Kind+r.Items[j].OutTradeNo+r.Items[j].OutRefundNo
	})
	r.OurPaid, r.WeChatPaid, r.OurRefund, r.WeChatRefund = sum(ours.paid), sum(theirs.paid), sum(ours.refunds), sum(theirs.refunds)
	r.Differences, r.Status = int64(len(r.Items)), "matched"
	if len(r.Items) > 0 {
		r.Status = "differences"
	}
	return r
}

func sum(m map[string]int64) (total int64) {
	for _, v := range m {
		total += v
	}
	return total
}

// store replaces the day's report.
func (s *Service) store(ctx context.Context, shopID int64, r Report) (Report, error) {
	// One upsert on (shop_id, bill_date): two staff reconciling the same day
	// at once queue on the row's lock instead of both inserting after both
	// deleted (a unique violation, then a 500, on PostgreSQL).
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO reconciliations (shop_id, bill_date, status, wechat_paid, wechat_refund, our_paid,
			our_refund, differences, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (shop_id, bill_date) DO UPDATE SET status = excluded.status, wechat_paid = excluded.wechat_paid,
				wechat_refund = excluded.wechat_refund, our_paid = excluded.our_paid, our_refund = excluded.our_refund,
				differences = excluded.differences, error = excluded.error, created_at = excluded.created_at
			RETURNING id`,
			shopID, r.BillDate, r.Status, r.WeChatPaid, r.WeChatRefund, r.OurPaid, r.OurRefund, r.Differences, r.Error, db.Now()).Scan(&r.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM reconciliation_items WHERE reconciliation_id = ? AND shop_id = ?`, r.ID, shopID); err != nil {
			return err
		}
		for _, d := range r.Items {
			if _, err := tx.Exec(ctx, `INSERT INTO reconciliation_items (shop_id, reconciliation_id, kind, out_trade_no, out_refund_no, ours, theirs)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, shopID, r.ID, d.Kind, d.OutTradeNo, d.OutRefundNo, d.Ours, d.Theirs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Report{}, errs.Wrap("store reconciliation", err)
	}
	return s.Report(ctx, shopID, r.ID)
}

const reportColumns = `id, bill_date, status, wechat_paid, wechat_refund, our_paid, our_refund, differences, error, created_at`

func scanReport(row db.Scanner) (Report, error) {
	var r Report
	var created int64
	err := row.Scan(&r.ID, &r.BillDate, &r.Status, &r.WeChatPaid, &r.WeChatRefund, &r.OurPaid, &r.OurRefund, &r.Differences, &r.Error, &created)
	r.CreatedAt = time.UnixMilli(created).UTC()
	return r, err
}

// Report returns one stored report with its differences.
func (s *Service) Report(ctx context.Context, shopID, id int64) (Report, error) {
	r, err := scanReport(s.db.QueryRow(ctx, `SELECT `+reportColumns+` FROM reconciliations WHERE id = ? AND shop_id = ?`, id, shopID))
	if db.IsNoRows(err) {
		return Report{}, errs.E(errs.NotFound, "reconciliation_not_found", "no such reconciliation")
	}
	if err != nil {
		return Report{}, errs.Wrap("reconciliation", err)
	}
	rows, err := s.db.Query(ctx, `SELECT kind, out_trade_no, out_refund_no, ours, theirs FROM reconciliation_items
		WHERE reconciliation_id = ? AND shop_id = ? ORDER BY id`, id, shopID)
	if err != nil {
		return Report{}, errs.Wrap("reconciliation", err)
	}
	defer rows.Close()
	r.Items = []Difference{}
	for rows.Next() {
		var d Difference
		if err := rows.Scan(&d.Kind, &d.OutTradeNo, &d.OutRefundNo, &d.Ours, &d.Theirs); err != nil {
			return Report{}, errs.Wrap("reconciliation", err)
		}
		r.Items = append(r.Items, d)
	}
	return r, errs.Wrap("reconciliation", rows.Err())
}

// Reports lists a page of a shop's reports, newest day first: days before
// the one of the cursor after (ReportKey of the previous page's last item;
// 0 = from the newest), up to limit+1 rows so the caller knows whether
// there is a next page. A shop has one report per day, so the day alone is
// the position.
func (s *Service) Reports(ctx context.Context, shopID, after int64, limit int) ([]Report, error) {
	before := "9999-12-31"
	if after > 0 {
		before = fmt.Sprintf("%04d-%02d-%02d", after/10000, after/100%100, after%100)
	}
	out, err := db.All(ctx, s.db, scanReport, `SELECT `+reportColumns+` FROM reconciliations WHERE shop_id = ? AND bill_date < ?
		ORDER BY bill_date DESC LIMIT ?`, shopID, before, limit+1)
	return out, errs.Wrap("reconciliations", err)
}

// ReportKey is a report's position in Reports: its day as YYYYMMDD.
func (r Report) ReportKey() int64 {
	n, _ := strconv.ParseInt(strings.ReplaceAll(r.BillDate, "-", ""), 10, 64)
	return n
}

// reconcileDue reconciles yesterday for every shop with WeChat Pay whose
// report is missing or failed, once WeChat has published bills (10:00).
func (s *Service) reconcileDue(ctx context.Context, _ jobs.Job) error {
	now := s.now().In(china)
	if now.Hour() < 10 {
		return nil
	}
	yesterday := now.AddDate(0, 0, -1)
	rows, err := s.db.Query(ctx, `SELECT id FROM shops WHERE (mch_id <> '' OR pay_mode = 'partner') AND disabled = FALSE AND subject_type <> 'personal'
		AND id NOT IN (SELECT shop_id FROM reconciliations WHERE bill_date = ? AND status <> 'failed')`, yesterday.Format(time.DateOnly))
	if err != nil {
		return err
	}
	var shops []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		shops = append(shops, id)
	}
	rows.Close()
	for _, id := range shops {
		if _, err := s.Reconcile(ctx, id, yesterday); err != nil {
			s.log.Warn("reconciliation", "shop", id, "err", err.Error())
		}
	}
	return nil
}
