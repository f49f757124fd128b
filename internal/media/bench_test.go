package media_test

import (
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/media"
	"github.com/kaidian/kaidian/internal/platform/db"
)

// BenchmarkUploadJPEG uploads a 1600×1200 photo (about 500 KB) through the
// whole path: sniffing, the pixel check, decoding, re-encoding without
// metadata, two thumbnails, three files written to the local store and the
// row in SQLite. Each upload is distinct bytes (a comment segment), so none
// is answered from the content-addressed copy. It reports images/s and the
// 99th-percentile latency.
//
//	go test ./internal/media -run '^$' -bench UploadJPEG -benchtime 40x
func BenchmarkUploadJPEG(b *testing.B) {
	e := newEnv(b, db.OpenTest(b, db.SQLite), nil)
	shopID := e.shop()
	photo := jpegBytes(b, picture(1600, 1200))
	inputs := make([][]byte, b.N)
	for i := range inputs {
		inputs[i] = withComment(photo, "upload "+strconv.Itoa(i))
	}
	took := make([]time.Duration, b.N)
	b.SetBytes(int64(len(photo)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := e.svc.Upload(e.ctx, shopID, 1, media.KindProduct, inputs[i]); err != nil {
			b.Fatal(err)
		}
		took[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "images/s")
	b.ReportMetric(float64(took[(len(took)*99)/100].Microseconds())/1000, "p99-ms")
}
