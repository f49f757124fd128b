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

  Console:      %[1]s/admin/   (the admin console in your browser)
  API:          %[1]s/api/v1/…   (mini programs; send X-Appid: %[2]s)
  Admin API:    %[1]s/admin/api/v1/…
  OpenAPI:      %[1]s/openapi.json
  Metrics:      %[1]s/metrics
  WeChat:       an in-process sandbox at %[1]s%[3]s stands in for api.weixin.qq.com,
                and one at %[1]s%[8]s for WeChat Pay (api.mch.weixin.qq.com)

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

  # 6. buy SKU 1 (the Idempotency-Key makes a retry return the same order)
  curl -s %[1]s/api/v1/orders -H 'Authorization: Bearer <token>' -H 'Idempotency-Key: demo-order-0001' \
    --json '{"items":[{"sku_id":1,"quantity":1}],"address":{"name":"张三","phone":"13800138000","province":"浙江省","city":"杭州市","district":"西湖区","detail":"文三路 1 号"}}'

  # 7. get the wx.requestPayment parameters for it
  curl -s -X POST %[1]s/api/v1/orders/<order id>/pay -H 'Authorization: Bearer <token>'

  # 8. pay, as wx.requestPayment would: the WeChat Pay sandbox sends a signed notification back
  curl -s %[1]s%[8]s/sandbox/pay/request-payment --json '{"appid":"%[2]s","params":<the JSON of step 7>}'

  # 9. the order is paid
  curl -s %[1]s/api/v1/orders/<order id> -H 'Authorization: Bearer <token>'

  # 10. staff: log in, list products and orders
  curl -s %[1]s/admin/api/v1/auth/login --json '{"username":"%[5]s","password":"%[6]s"}'
  curl -s %[1]s/admin/api/v1/orders -H 'Authorization: Bearer <staff token>'

Stop with Ctrl-C. Data stays in the data folder; run the demo again to reuse it.
`, base, AppID, SandboxMount, OperatorUser, OwnerUser, Password, SandboxControl, PaySandboxMount)
}
