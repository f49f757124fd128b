package server_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/wechatpay/paysandbox"
)

// rsaSignsPerPaidOrder counts the RSA-2048 signatures one paid order needs:
// our prepay request, WeChat's prepay response, the paySign of
// wx.requestPayment, and WeChat's notification. (Verifications are cheap.)
const rsaSignsPerPaidOrder = 4

// BenchmarkPaidPath drives the whole paid path over HTTP with 100 buyers:
// order → prepay → wx.requestPayment at the WeChat Pay sandbox → signed,
// encrypted notification → paid. It also measures the machine's RSA-2048
// signing rate in the same run and reports the paid path as a share of the
// ceiling that rate sets (sign/s ÷ 4).
//
//	go test -run x -bench PaidPath -benchtime 2000x ./internal/server/
func BenchmarkPaidPath(b *testing.B) {
	for _, engine := range db.TestEngines() {
		b.Run(string(engine), func(b *testing.B) { paidPath(b, db.TestDSN(b, engine)) })
	}
}

func paidPath(b *testing.B, dsn string) {
	e := newEnv(b, dsn, nil)
	op := e.operator()
	a := e.newShop(op, "甲", "enterprise")
	e.enablePay(op, a, paysandbox.KeyModeCertificate)
	if _, err := e.srv.DB.Exec(context.Background(), `UPDATE skus SET stock = 100000000`); err != nil {
		b.Fatal(err)
	}
	buyers := make(chan caller, 100)
	for i := 0; i < 100; i++ {
		buyer, _ := e.memberLogin(a.appid, "bench-buyer-"+itoa(int64(i)))
		buyers <- buyer
	}
	signRate := measureSigning(b, 2*time.Second)
	var paid atomic.Int64
	b.SetParallelism((100 + 1) / 2) // × GOMAXPROCS(2) ≈ 100 buyers
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		buyer := <-buyers
		for pb.Next() {
			id := e.buyNow(buyer, a.skuID, 1)
			if d, err := e.pay.PayWithParams(context.Background(), a.appid, e.payParams(buyer, id)); err == nil && d.Delivered {
				paid.Add(1)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	var here int64
	e.srv.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM orders WHERE status = 'paid'`).Scan(&here)
	if here != paid.Load() || paid.Load() != int64(b.N) {
		b.Fatalf("%d paid at WeChat and notified, %d paid here, %d iterations", paid.Load(), here, b.N)
	}
	perSec := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(perSec, "paid/s")
	b.ReportMetric(signRate, "rsa-sign/s")
	b.ReportMetric(perSec/(signRate/rsaSignsPerPaidOrder), "ratio-to-ceiling")
}

// measureSigning signs SHA-256 digests with an RSA-2048 key on every core
// for d and returns signatures per second.
func measureSigning(b *testing.B, d time.Duration) float64 {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("GET\n/v3/pay/transactions/jsapi\n1700000000\nnonce\nbody\n"))
	var n atomic.Int64
	deadline := time.Now().Add(d)
	done := make(chan struct{})
	workers := 2
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for time.Now().Before(deadline) {
				if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:]); err == nil {
					n.Add(1)
				}
			}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	return float64(n.Load()) / d.Seconds()
}
