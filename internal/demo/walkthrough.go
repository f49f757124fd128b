package demo

import (
	"fmt"
	"io"
	"strings"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// Walkthrough prints where the demo runs and what to try.
func Walkthrough(w io.Writer, base string) {
	fmt.Fprintf(w, `
kaidian demo is running at %[1]s

  API:          %[1]s/api/v1/…   (mini programs; send X-Appid: %[2]s)
  Admin API:    %[1]s/admin/api/v1/…
  OpenAPI:      %[1]s/openapi.json
  Metrics:      %[1]s/metrics
  WeChat:       an in-process sandbox at %[1]s%[3]s stands in for api.weixin.qq.com

  Operator login: %[4]s / %[6]s      Shop owner login: %[5]s / %[6]s

Try it (in another terminal):

  # 1. get a login code from the sandbox (what wx.login gives a mini program)
  curl -s %[1]s%[7]s/login-code --json '{"appid":"%[2]s"}'

  # 2. log in with that code; keep the token
  curl -s %[1]s/api/v1/auth/login -H 'X-Appid: %[2]s' --json '{"code":"<code>"}'

  # 3. search the catalog (Chinese, no spaces needed)
  curl -s '%[1]s/api/v1/products?q=连衣裙' -H 'X-Appid: %[2]s'

  # 4. view a product with its SKUs
  curl -s %[1]s/api/v1/products/1 -H 'X-Appid: %[2]s'

  # 5. who am I (with the token from step 2)
  curl -s %[1]s/api/v1/me -H 'Authorization: Bearer <token>'

  # 6. staff: log in and list products, on and off the shelf
  curl -s %[1]s/admin/api/v1/auth/login --json '{"username":"%[5]s","password":"%[6]s"}'
  curl -s %[1]s/admin/api/v1/products -H 'Authorization: Bearer <staff token>'

Stop with Ctrl-C. Data stays in the data folder; run the demo again to reuse it.
`, base, AppID, SandboxMount, OperatorUser, OwnerUser, Password, SandboxControl)
}
