package media_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kaidian/kaidian/internal/media"
	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/shop"
)

type env struct {
	t     testing.TB
	ctx   context.Context
	d     *db.DB
	store blob.Store
	svc   *media.Service
	refs  *fakeRefs
}

// fakeRefs marks keys as used by a product or an order.
type fakeRefs struct {
	mu   sync.Mutex
	used map[string]bool
}

func (f *fakeRefs) MediaReferenced(ctx context.Context, shopID int64, key string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.used[key], nil
}

func (f *fakeRefs) use(key string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.used[key] = on
}

func newEnv(t testing.TB, d *db.DB, store blob.Store) *env {
	t.Helper()
	if store == nil {
		local, err := blob.NewLocal(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		store = local
	}
	refs := &fakeRefs{used: map[string]bool{}}
	e := &env{t: t, ctx: context.Background(), d: d, store: store, refs: refs}
	e.svc = media.NewService(d, store, "https://shop.example.com", refs, slog.New(slog.DiscardHandler))
	return e
}

var appIDs atomic.Int64

func (e *env) shop() int64 {
	e.t.Helper()
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		e.t.Fatal(err)
	}
	n := appIDs.Add(1)
	sh, err := shop.NewService(e.d, box).Create(e.ctx, shop.CreateInput{Name: fmt.Sprintf("店%d", n),
		AppID: fmt.Sprintf("wx%016x", 0x4d000000+n), SubjectType: "enterprise"})
	if err != nil {
		e.t.Fatalf("create shop: %v", err)
	}
	return sh.ID
}

// picture is a w×h image with some detail (so JPEG does not shrink it to nothing).
func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 0xff), 255})
		}
	}
	return img
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngBytes(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifBytes(t testing.TB, w, h, frames int) []byte {
	g := &gif.GIF{}
	for i := 0; i < frames; i++ {
		g.Image = append(g.Image, image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, color.Black}))
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withEXIF puts an APP1 EXIF segment with an orientation and a fake GPS
// note right after a JPEG's SOI marker.
func withEXIF(data []byte, orientation uint16, note string) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("II*\x00")
	_ = binary.Write(&tiff, binary.LittleEndian, uint32(8))
	_ = binary.Write(&tiff, binary.LittleEndian, uint16(1))
	_ = binary.Write(&tiff, binary.LittleEndian, [4]uint16{0x0112, 3, 1, 0})
	_ = binary.Write(&tiff, binary.LittleEndian, [2]uint16{orientation, 0})
	_ = binary.Write(&tiff, binary.LittleEndian, uint32(0))
	tiff.WriteString(note)
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	out = append(out, seg...)
	return append(out, data[2:]...)
}

// withComment adds a COM segment (to make distinct bytes of one picture).
func withComment(data []byte, text string) []byte {
	out := []byte{0xFF, 0xD8, 0xFF, 0xFE, byte((len(text) + 2) >> 8), byte(len(text) + 2)}
	out = append(out, text...)
	return append(out, data[2:]...)
}

// withPNGText adds a tEXt chunk after a PNG's IHDR.
func withPNGText(data []byte, key, value string) []byte {
	body := append([]byte("tEXt"+key+"\x00"), value...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(body)-4))
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(body))
	at := 8 + 25 // signature + IHDR chunk
	out := append([]byte(nil), data[:at]...)
	out = append(out, chunk...)
	return append(out, data[at:]...)
}

// tinyVP8 is a 1×1 lossy WebP's VP8 chunk payload.
var tinyVP8 = func() []byte {
	b, _ := base64.StdEncoding.DecodeString("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
	return b[20:] // after RIFF header, WEBP and the VP8 chunk header
}()

func riffChunk(id string, payload []byte) []byte {
	out := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))...)
	out = append(out, payload...)
	if len(payload)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

// webpWithMetadata is an extended WebP (VP8X) of one pixel carrying EXIF
// and XMP chunks with a secret in them.
func webpWithMetadata(secret string) []byte {
	vp8x := make([]byte, 10)
	vp8x[0] = 0x08 | 0x04 // EXIF and XMP flags; canvas 1×1 is stored minus one: zeros
	var body []byte
	body = append(body, "WEBP"...)
	body = append(body, riffChunk("VP8X", vp8x)...)
	body = append(body, riffChunk("VP8 ", tinyVP8)...)
	body = append(body, riffChunk("EXIF", []byte("II*\x00"+secret))...)
	body = append(body, riffChunk("XMP ", []byte("<x:xmpmeta>"+secret+"</x:xmpmeta>"))...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}
