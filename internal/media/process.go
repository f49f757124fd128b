package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Limits of what an upload may be.
const (
	MaxBytes     = 10 << 20   // 10 MiB per file (WeChat's image check takes up to 10 MB)
	MaxPixels    = 40_000_000 // width × height of a still image: refused before decoding
	MaxGIFPixels = 100_000_000
	MaxGIFFrames = 300
	thumbQuality = 82
	fullQuality  = 90
)

// ThumbWidths are the thumbnails made of every image: a list cell and a
// full-width picture on a phone (750 rpx).
var ThumbWidths = [2]int{200, 750}

var (
	errEmpty       = errs.E(errs.Invalid, "empty_file", "the file is empty")
	errUnsupported = errs.E(errs.Unsupported, "unsupported_file_type",
		"images must be JPEG, PNG, WebP or GIF and attachments PDF or plain text (the type is read from the bytes, not the name)")
	errCorrupt    = errs.E(errs.Invalid, "corrupt_image", "the image cannot be decoded")
	errDimensions = errs.E(errs.Invalid, "image_too_many_pixels",
		"the image is too large in pixels (at most 40 megapixels; animated GIFs at most 300 frames and 100 megapixels in all)")
)

// processed is an upload ready to store: the bytes to keep (metadata
// stripped), their type and extension, and JPEG thumbnails.
type processed struct {
	data          []byte
	contentType   string
	ext           string
	width, height int
	thumbs        [2][]byte // by ThumbWidths; nil for attachments
}

// sniff reads the real type from the bytes (never the name or the
// client's Content-Type).
func sniff(data []byte) string {
	ct := http.DetectContentType(data)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return ct
}

// processAttachment accepts PDF and UTF-8 plain text, stored as is.
func processAttachment(data []byte) (processed, error) {
	if len(data) == 0 {
		return processed{}, errEmpty
	}
	switch sniff(data) {
	case "application/pdf":
		return processed{data: data, contentType: "application/pdf", ext: "pdf"}, nil
	case "text/plain":
		if utf8.Valid(data) && bytes.IndexByte(data, 0) < 0 {
			return processed{data: data, contentType: "text/plain; charset=utf-8", ext: "txt"}, nil
		}
	}
	return processed{}, errUnsupported
}

// processImage checks an image's type and size in pixels (before decoding
// it), strips its metadata and makes its thumbnails.
func processImage(data []byte) (processed, error) {
	if len(data) == 0 {
		return processed{}, errEmpty
	}
	ct := sniff(data)
	var cfg image.Config
	var err error
	switch ct {
	case "image/jpeg":
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case "image/png":
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case "image/gif":
		cfg, err = gif.DecodeConfig(bytes.NewReader(data))
	case "image/webp":
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	default:
		return processed{}, errUnsupported
	}
	if err != nil {
		return processed{}, errCorrupt
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return processed{}, errDimensions
	}
	switch ct {
	case "image/jpeg":
		return processJPEG(data)
	case "image/png":
		return processPNG(data)
	case "image/gif":
		return processGIF(data, cfg)
	}
	return processWebP(data)
}

// processJPEG decodes and re-encodes the image, which drops every APP
// segment (EXIF with its GPS position, XMP, comments); the EXIF
// orientation is applied to the pixels first, so the picture stands as
// the camera meant.
func processJPEG(data []byte) (processed, error) {
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return processed{}, errCorrupt
	}
	img = orient(img, jpegOrientation(data))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: fullQuality}); err != nil {
		return processed{}, errs.Wrap("encode jpeg", err)
	}
	return withThumbs(processed{data: buf.Bytes(), contentType: "image/jpeg", ext: "jpg"}, img)
}

// processPNG re-encodes the image: only the pixels are kept (no tEXt,
// iTXt, eXIf or time chunks).
func processPNG(data []byte) (processed, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return processed{}, errCorrupt
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return processed{}, errs.Wrap("encode png", err)
	}
	return withThumbs(processed{data: buf.Bytes(), contentType: "image/png", ext: "png"}, img)
}

// processGIF keeps the file as it is (GIF has no EXIF), after counting
// its frames without decoding them: many large frames are a bomb.
func processGIF(data []byte, cfg image.Config) (processed, error) {
	frames, err := gifFrames(data)
	if err != nil {
		return processed{}, errCorrupt
	}
	if frames == 0 || frames > MaxGIFFrames || int64(frames)*int64(cfg.Width)*int64(cfg.Height) > MaxGIFPixels {
		return processed{}, errDimensions
	}
	first, err := gif.Decode(bytes.NewReader(data)) // the first frame only
	if err != nil {
		return processed{}, errCorrupt
	}
	return withThumbs(processed{data: data, contentType: "image/gif", ext: "gif"}, first)
}

// processWebP drops the EXIF and XMP chunks from the RIFF container (Go
// has no WebP encoder, so the image data is kept byte for byte).
func processWebP(data []byte) (processed, error) {
	stripped, err := stripWebP(data)
	if err != nil {
		return processed{}, errCorrupt
	}
	img, err := webp.Decode(bytes.NewReader(stripped))
	if err != nil {
		return processed{}, errCorrupt // animated WebP included: x/image/webp reads still images only
	}
	return withThumbs(processed{data: stripped, contentType: "image/webp", ext: "webp"}, img)
}

func withThumbs(p processed, img image.Image) (processed, error) {
	b := img.Bounds()
	p.width, p.height = b.Dx(), b.Dy()
	for i, w := range ThumbWidths {
		t, err := thumbnail(img, w)
		if err != nil {
			return processed{}, err
		}
		p.thumbs[i] = t
	}
	return p, nil
}

// thumbnail scales img to width (never up) on a white background (JPEG
// has no transparency) and encodes it as JPEG.
func thumbnail(img image.Image, width int) ([]byte, error) {
	b := img.Bounds()
	if b.Dx() < width {
		width = b.Dx()
	}
	height := max(1, int(int64(b.Dy())*int64(width)/int64(b.Dx())))
	dst := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(dst, dst.Bounds(), &image.Uniform{C: color.White}, image.Point{}, draw.Src)
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, errs.Wrap("encode thumbnail", err)
	}
	return buf.Bytes(), nil
}

var errFormat = errors.New("malformed container")

// gifFrames counts the image descriptors of a GIF by walking its blocks
// and skipping their data sub-blocks, without decompressing anything.
func gifFrames(data []byte) (int, error) {
	if len(data) < 13 {
		return 0, errFormat
	}
	i := 13
	if flags := data[10]; flags&0x80 != 0 { // global colour table
		i += 3 << ((flags & 7) + 1)
	}
	frames := 0
	for i < len(data) {
		switch data[i] {
		case 0x3B: // trailer
			return frames, nil
		case 0x21: // extension: label, then sub-blocks
			if i+2 > len(data) {
				return 0, errFormat
			}
			next, err := skipSubBlocks(data, i+2)
			if err != nil {
				return 0, err
			}
			i = next
		case 0x2C: // image descriptor (10 bytes), local colour table, LZW minimum code size, sub-blocks
			if i+10 > len(data) {
				return 0, errFormat
			}
			frames++
			flags := data[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << ((flags & 7) + 1)
			}
			next, err := skipSubBlocks(data, i+1)
			if err != nil {
				return 0, err
			}
			i = next
		default:
			return 0, errFormat
		}
	}
	return frames, nil // no trailer: the decoders accept it too
}

func skipSubBlocks(data []byte, i int) (int, error) {
	for {
		if i >= len(data) {
			return 0, errFormat
		}
		n := int(data[i])
		i++
		if n == 0 {
			return i, nil
		}
		i += n
	}
}

// stripWebP rewrites a WebP's RIFF container without its EXIF and XMP
// chunks, and clears their flags in the VP8X header.
func stripWebP(data []byte) ([]byte, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, errFormat
	}
	size := int(binary.LittleEndian.Uint32(data[4:8]))
	if size+8 > len(data) || size < 4 {
		return nil, errFormat
	}
	body := data[12 : size+8]
	out := make([]byte, 12, len(data))
	copy(out, data[:12])
	for len(body) > 0 {
		if len(body) < 8 {
			return nil, errFormat
		}
		id := string(body[:4])
		n := int(binary.LittleEndian.Uint32(body[4:8]))
		padded := n + n&1
		if n < 0 || 8+padded > len(body) && 8+n != len(body) {
			return nil, errFormat
		}
		end := min(8+padded, len(body))
		chunk := body[:end]
		body = body[end:]
		switch id {
		case "EXIF", "XMP ":
			continue
		case "VP8X":
			if len(chunk) >= 9 {
				c := append([]byte(nil), chunk...)
				c[8] &^= 0x08 | 0x04 // EXIF and XMP present
				chunk = c
			}
		}
		out = append(out, chunk...)
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out, nil
}

// jpegOrientation reads the EXIF orientation (1 to 8) of a JPEG; 1 when
// there is none or it cannot be read.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan: no more metadata
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2 : i+4]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation finds tag 0x0112 in IFD0 of a TIFF structure.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:8]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	count := int(bo.Uint16(t[off : off+2]))
	for k := 0; k < count; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:e+2]) == 0x0112 {
			if v := int(bo.Uint16(t[e+8 : e+10])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// orient turns img upright for an EXIF orientation.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst.Set(dx, dy, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}
