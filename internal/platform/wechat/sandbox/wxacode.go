package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"regexp"
)

const unlimitedCodeAPI = "/wxa/getwxacodeunlimit"

// imageReply marks a reply that is an image, not JSON (ServeHTTP writes it
// as image/png).
const imageReply = "\x00image"

const (
	errSceneInvalid = 40169
	errPageInvalid  = 41030
)

func init() {
	errMessages[errSceneInvalid] = "invalid length for scene, or the data is not json string"
	errMessages[errPageInvalid] = "invalid page rid"
}

// sceneChars is what WeChat allows in a scene: at most 32 visible
// characters of this set.
var sceneChars = regexp.MustCompile(`^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$`)

// pagePath is a mini-program page: "pages/goods/detail", no leading slash.
var pagePath = regexp.MustCompile(`^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$`)

// unlimitedCode draws a mini-program code: a real PNG whose pattern
// depends on the scene, page and version, as WeChat's does.
func (s *Sandbox) unlimitedCode(r *http.Request, body []byte) reply {
	if _, code := s.checkToken(r); code != 0 {
		return errReply(code)
	}
	var req struct {
		Scene      string `json:"scene"`
		Page       string `json:"page"`
		CheckPath  *bool  `json:"check_path"`
		EnvVersion string `json:"env_version"`
		Width      int    `json:"width"`
	}
	if json.Unmarshal(body, &req) != nil {
		return errReply(errDataFormat)
	}
	switch {
	case !sceneChars.MatchString(req.Scene):
		return errReply(errSceneInvalid)
	case req.Page != "" && !pagePath.MatchString(req.Page):
		return errReply(errPageInvalid)
	case req.EnvVersion != "" && req.EnvVersion != "release" && req.EnvVersion != "trial" && req.EnvVersion != "develop":
		return errReply(errInvalidArgs)
	}
	width := req.Width
	if width == 0 {
		width = 430
	}
	width = min(max(width, 280), 1280)
	s.codesDrawn = append(s.codesDrawn, DrawnCode{Scene: req.Scene, Page: req.Page, EnvVersion: req.EnvVersion, Width: width})
	return reply{imageReply: drawCode(req.Scene+"|"+req.Page+"|"+req.EnvVersion, width)}
}

// DrawnCode is a mini-program code the sandbox drew.
type DrawnCode struct {
	Scene, Page, EnvVersion string
	Width                   int
}

// CodesDrawn lists the mini-program codes drawn so far, oldest first.
func (s *Sandbox) CodesDrawn() []DrawnCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DrawnCode(nil), s.codesDrawn...)
}

// drawCode draws a square of 29×29 modules from the SHA-256 of what the
// code carries, with the three corner marks of a scannable code, scaled to
// width pixels.
func drawCode(content string, width int) []byte {
	const modules = 29
	var stream []byte // enough bits for every module: SHA-256 chained
	for sum := sha256.Sum256([]byte(content)); len(stream)*8 < modules*modules; sum = sha256.Sum256(sum[:]) {
		stream = append(stream, sum[:]...)
	}
	bits := func(i int) bool { return stream[i/8]>>(i%8)&1 == 1 }
	img := image.NewPaletted(image.Rect(0, 0, width, width), color.Palette{color.White, color.Black})
	scale := width / (modules + 2)
	for y := 0; y < modules; y++ {
		for x := 0; x < modules; x++ {
			dark := bits(y*modules + x)
			if m, ok := cornerMark(x, y, modules); ok {
				dark = m
			}
			if !dark {
				continue
			}
			for py := 0; py < scale; py++ {
				for px := 0; px < scale; px++ {
					img.SetColorIndex((x+1)*scale+px, (y+1)*scale+py, 1)
				}
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// cornerMark is the 7×7 finder pattern in three corners (and a white
// border around it); ok is false elsewhere.
func cornerMark(x, y, n int) (dark, ok bool) {
	for _, c := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
		dx, dy := x-c[0], y-c[1]
		if dx < -1 || dy < -1 || dx > 7 || dy > 7 {
			continue
		}
		if dx < 0 || dy < 0 || dx > 6 || dy > 6 {
			return false, true
		}
		ring := min(dx, dy, 6-dx, 6-dy)
		return ring != 1, true
	}
	return false, false
}
