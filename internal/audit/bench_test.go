package audit_test

import (
	"context"
	"testing"

	"github.com/kaidian/kaidian/internal/audit"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// benchEntry is the size of a typical staff change's record.
var benchEntry = audit.Entry{ShopID: 1, ActorID: 7, Actor: "owner_shop", Role: "owner", Addr: "10.0.0.1",
	Action: "PATCH /admin/api/v1/products/{id}", Target: "/admin/api/v1/products/123", Status: 200,
	Request: `{"title":"夏季新款碎花连衣裙","price":19900,"on_shelf":true}`,
	Before:  `{"id":123,"title":"夏季连衣裙","price":21900,"on_shelf":false,"skus":[{"id":1,"price":21900,"stock":40}]}`,
	After:   `{"id":123,"title":"夏季新款碎花连衣裙","price":19900,"on_shelf":true,"skus":[{"id":1,"price":19900,"stock":40}]}`}

// BenchmarkAppend measures one audit record appended: with its own commit,
// inside a caller's transaction (the extra cost to a change that records
// itself), through Append alone and with 64 callers at once (group
// commit), and the sealing of records, on every test engine. The issue's
// target: under 50 µs. Sealing is not on the request's path.
func BenchmarkAppend(b *testing.B) {
	for _, engine := range db.TestEngines() {
		d := db.OpenTest(b, engine)
		ctx := context.Background()
		if _, err := d.Exec(ctx, `INSERT INTO shops (id, name, appid, subject_type, created_at, updated_at) VALUES (1, '店', 'wx00000000000000ab', 'enterprise', 0, 0)`); err != nil {
			b.Fatal(err)
		}
		s := audit.NewService(d, testKey, 0, nil)
		b.Run(string(engine)+"/own-commit", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := s.Record(ctx, d, benchEntry); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(engine)+"/in-caller-tx", func(b *testing.B) {
			const perTx = 100
			for i := 0; i < b.N; i += perTx {
				err := d.InTx(ctx, func(tx *db.Tx) error {
					for j := 0; j < perTx && i+j < b.N; j++ {
						if err := s.Record(ctx, tx, benchEntry); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(engine)+"/append-alone", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := s.Append(ctx, benchEntry); err != nil {
					b.Fatal(err)
				}
			}
		})
		// 64 staff requests at once (the HTTP auditor's path under load):
		// the time per record of the group writes.
		b.Run(string(engine)+"/append-64-at-once", func(b *testing.B) {
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Append(ctx, benchEntry); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
		b.Run(string(engine)+"/seal", func(b *testing.B) {
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Record(ctx, d, benchEntry); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			if _, err := s.Seal(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}
