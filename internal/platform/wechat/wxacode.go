package wechat

import (
	"context"
	"regexp"
)

// UnlimitedCode asks for a mini-program code (小程序码) that opens Page
// with Scene (getwxacodeunlimit: no limit on how many, but the scene is at
// most 32 characters).
type UnlimitedCode struct {
	Scene      string `json:"scene"`
	Page       string `json:"page,omitempty"`        // e.g. "pages/goods/detail", no leading slash; default the home page
	CheckPath  *bool  `json:"check_path,omitempty"`  // false: the page need not be published yet
	EnvVersion string `json:"env_version,omitempty"` // release (default), trial or develop
	Width      int    `json:"width,omitempty"`       // pixels, 280 to 1280 (default 430)
}

var sceneChars = regexp.MustCompile(`^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$`)

// ValidScene reports whether s is a scene WeChat accepts: 1 to 32
// characters of letters, digits and !#$&'()*+,/:;=?@-._~.
func ValidScene(s string) bool { return sceneChars.MatchString(s) }

// UnlimitedCode returns the code's image (POST /wxa/getwxacodeunlimit).
// WeChat answers the image itself, or a JSON error.
func (c *Client) UnlimitedCode(ctx context.Context, app App, req UnlimitedCode) ([]byte, error) {
	var img []byte
	err := c.withToken(ctx, app, func(token string) error {
		data, err := c.fetch(ctx, tokenRequest(app, token, "/wxa/getwxacodeunlimit", req))
		if err != nil {
			return err
		}
		if len(data) > 0 && data[0] == '{' {
			var none struct{}
			return tokenRequest(app, token, "/wxa/getwxacodeunlimit", nil).decode(data, &none)
		}
		img = data
		return nil
	})
	return img, err
}
