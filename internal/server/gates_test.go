package server_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strconv"
	"testing"
	"time"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func testKeyAndCert(t *testing.T) (string, string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}))
}

// TestSubjectTypeGatesPublishing enforces WeChat's gates through the API:
// personal shops publish no goods; individual businesses need a verified
// brand authorization for brand-gated categories; enterprises publish all.
func TestSubjectTypeGatesPublishing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		op := e.operator()
		personal := e.newShop(op, "个人", "personal")
		draft := fmt.Sprintf("/admin/api/v1/products/%d", personal.productID)
		if r := e.do(personal.owner, "POST", draft+"/shelf", map[string]bool{"on_shelf": true}); r.status != 403 || r.code() != "subject_cannot_sell" {
			t.Fatalf("a personal shop put goods on the shelf: %d %s", r.status, r.body)
		}
		if r := e.do(personal.owner, "POST", "/admin/api/v1/products", productBody(personal.categoryID, "个人商品", true)); r.code() != "subject_cannot_sell" {
			t.Fatalf("a personal shop created goods on the shelf: %d %s", r.status, r.body)
		}
		if r := e.do(caller{appid: personal.appid}, "GET", "/api/v1/products", nil); r.String() != `{"items":[]}`+"\n" {
			t.Fatalf("a personal shop shows goods to buyers: %s", r.body)
		}

		ind := e.newShop(op, "个体", "individual")
		opInd := caller{token: op.token, shopID: ind.id}
		gated := e.must(opInd, 201, "POST", "/admin/api/v1/categories", map[string]any{"name": "品牌服饰", "needs_brand_auth": true})
		if r := e.do(ind.owner, "PATCH", fmt.Sprintf("/admin/api/v1/categories/%v", gated["id"]), map[string]any{"needs_brand_auth": false}); r.code() != "operator_only" {
			t.Fatalf("staff lifted a brand gate: %d %s", r.status, r.body)
		}
		body := productBody(int64(gated["id"].(float64)), "品牌外套", true)
		if r := e.do(ind.owner, "POST", "/admin/api/v1/products", body); r.code() != "brand_authorization_required" {
			t.Fatalf("an individual business published in a brand-gated category: %d %s", r.status, r.body)
		}
		e.must(op, 200, "PATCH", "/admin/api/v1/shops/"+itoa(ind.id), map[string]any{"brand_authorized": true})
		e.must(ind.owner, 201, "POST", "/admin/api/v1/products", body)

		ent := e.newShop(op, "企业", "enterprise")
		opEnt := caller{token: op.token, shopID: ent.id}
		gatedEnt := e.must(opEnt, 201, "POST", "/admin/api/v1/categories", map[string]any{"name": "品牌服饰", "needs_brand_auth": true})
		e.must(ent.owner, 201, "POST", "/admin/api/v1/products", productBody(int64(gatedEnt["id"].(float64)), "品牌外套", true))
	})
}
