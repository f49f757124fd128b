package learning

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"unicode"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/kaidian/kaidian/internal/moderation/engine"
)

// Face is a font for certificates. The binary embeds no CJK font (a usable
// one is several megabytes): server may set one read from a font file
// (LoadFace) with SetFace. Without it, certificates are drawn with
// the built-in 7x13 face, scaled up, and Chinese names and titles are
// written in pinyin (张三 → Zhang San); the verify route always answers the
// original text.
type Face = font.Face

// SetFace sets the font certificates are drawn with (one that has the CJK
// glyphs), at the size of the title; other lines are drawn with it too.
func (s *Service) SetFace(f Face) { s.face = f }

const certW, certH = 960, 640

var (
	ink   = color.RGBA{0x22, 0x22, 0x22, 0xff}
	gold  = color.RGBA{0xb8, 0x86, 0x0b, 0xff}
	paper = color.RGBA{0xfd, 0xfa, 0xf2, 0xff}
)

// render draws a certificate: a bordered card with the course title, the
// learner's name, the completion date and the verification code.
func (s *Service) render(v CertificateView) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, certW, certH))
	draw.Draw(img, img.Bounds(), &image.Uniform{paper}, image.Point{}, draw.Src)
	frame(img, 24, 6, gold)
	frame(img, 40, 2, gold)
	heading, completed, on, code := "CERTIFICATE OF COMPLETION", "has completed", "Completed on ", "Verification code: "
	if s.face != nil {
		heading, completed, on, code = "结业证书", "完成了课程", "完成日期 ", "验证码 "
	}
	lines := []struct {
		text  string
		y     int
		scale int
		c     color.Color
	}{
		{heading, 130, 3, gold},
		{s.printable(v.LearnerName), 260, 4, ink},
		{completed, 330, 2, ink},
		{s.printable(v.CourseTitle), 410, 3, ink},
		{on + v.CompletedOn, 500, 2, ink},
		{code + v.Code, 560, 2, ink},
	}
	for _, l := range lines {
		s.centre(img, l.text, l.y, l.scale, l.c)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func frame(img *image.RGBA, inset, width int, c color.Color) {
	r := img.Bounds().Inset(inset)
	u := &image.Uniform{c}
	for _, side := range []image.Rectangle{
		{r.Min, image.Pt(r.Max.X, r.Min.Y+width)}, {image.Pt(r.Min.X, r.Max.Y-width), r.Max},
		{r.Min, image.Pt(r.Min.X+width, r.Max.Y)}, {image.Pt(r.Max.X-width, r.Min.Y), r.Max},
	} {
		draw.Draw(img, side, u, image.Point{}, draw.Src)
	}
}

// printable is text as the face can draw it: unchanged with a CJK face;
// with the built-in face, Han characters in pinyin and any other glyph the
// face lacks as '?'. It is cut to fit the card.
func (s *Service) printable(text string) string {
	if s.face != nil {
		return cut(text, 30)
	}
	var b strings.Builder
	prevHan := false
	for _, r := range text {
		if py := engine.Pinyin(r); py != "" {
			if b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
				b.WriteByte(' ')
			}
			b.WriteString(strings.ToUpper(py[:1]) + py[1:])
			prevHan = true
			continue
		}
		if prevHan && !unicode.IsSpace(r) {
			b.WriteByte(' ')
		}
		prevHan = false
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return cut(b.String(), 54)
}

// cut keeps at most n characters, ending with "..." when it cuts.
func cut(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-3]) + "..."
}

// centre draws text centred on the card with its baseline at y: with the
// CJK face as is, with the built-in face drawn small and scaled up.
func (s *Service) centre(img *image.RGBA, text string, y, scale int, c color.Color) {
	if s.face != nil {
		d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: s.face}
		w := d.MeasureString(text).Round()
		d.Dot = fixed.P((certW-w)/2, y)
		d.DrawString(text)
		return
	}
	face := basicfont.Face7x13
	small := image.NewRGBA(image.Rect(0, 0, font.MeasureString(face, text).Round()+1, 13))
	d := &font.Drawer{Dst: small, Src: image.NewUniform(c), Face: face, Dot: fixed.P(0, 10)}
	d.DrawString(text)
	w, h := small.Bounds().Dx()*scale, small.Bounds().Dy()*scale
	x := (certW - w) / 2
	dst := image.Rect(x, y-10*scale, x+w, y-10*scale+h)
	draw.NearestNeighbor.Scale(img, dst, small, small.Bounds(), draw.Over, nil)
}

// LoadFace reads a TrueType or OpenType font file, or the first font of a
// collection (.ttc, as Debian's fonts-noto-cjk ships NotoSansCJK), for
// SetFace: e.g. /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc.
func LoadFace(path string, size float64) (Face, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f *opentype.Font
	if c, err := opentype.ParseCollection(b); err == nil && c.NumFonts() > 0 {
		f, err = c.Font(0)
		if err != nil {
			return nil, err
		}
	} else if f, err = opentype.Parse(b); err != nil {
		return nil, fmt.Errorf("certificate font %s: %w", path, err)
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}
