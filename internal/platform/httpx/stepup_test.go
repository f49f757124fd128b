package httpx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// A session that must enrol reaches only Enrolment routes; StepUp routes
// run the StepUp guard (required) and MayStepUp routes run it without
// requiring; the document lists the step-up's header and codes on both.
func TestStepUpAndEnrolmentGuards(t *testing.T) {
	var staff auth.Staff
	var asked []bool
	mux := http.NewServeMux()
	api := httpx.NewAPI(mux, httpx.Guards{
		Staff: func(r *http.Request, _ auth.Permission) (*http.Request, error) {
			return r.WithContext(auth.WithStaff(r.Context(), staff)), nil
		},
		StepUp: func(r *http.Request, required bool) (*http.Request, error) {
			asked = append(asked, required)
			if required {
				return r, errs.E(errs.Forbidden, "second_factor_required", "step up")
			}
			return r, nil
		},
	})
	ok := func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(204); return nil }
	api.Add(httpx.Route{Method: "POST", Path: "/enrol", Access: httpx.Staff, Enrolment: true, Status: 204, Handler: ok})
	api.Add(httpx.Route{Method: "POST", Path: "/plain", Access: httpx.Staff, Status: 204, Handler: ok})
	api.Add(httpx.Route{Method: "POST", Path: "/sensitive", Access: httpx.Staff, StepUp: true, Status: 204, Handler: ok})
	api.Add(httpx.Route{Method: "POST", Path: "/refund", Access: httpx.Staff, MayStepUp: true, Status: 204, Handler: ok})
	call := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("POST", path, nil))
		var body struct{ Code string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body.Code
	}
	staff.MustEnrol = true
	if code, _ := call("/enrol"); code != 204 {
		t.Fatalf("enrolment route: %d", code)
	}
	if code, c := call("/plain"); code != 403 || c != "totp_enrolment_required" {
		t.Fatalf("another route before enrolment: %d %s", code, c)
	}
	staff.MustEnrol = false
	if code, _ := call("/plain"); code != 204 || len(asked) != 0 {
		t.Fatalf("a plain route: %d, step-up asked %v", code, asked)
	}
	if code, c := call("/sensitive"); code != 403 || c != "second_factor_required" {
		t.Fatalf("a StepUp route: %d %s", code, c)
	}
	if code, _ := call("/refund"); code != 204 || len(asked) != 2 || asked[1] {
		t.Fatalf("a MayStepUp route: %d, asked %v", code, asked)
	}

	raw, _ := json.Marshal(api.OpenAPI("t", "1"))
	var doc struct {
		Paths map[string]map[string]map[string]any
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/sensitive", "/refund"} {
		op, _ := json.Marshal(doc.Paths[p]["post"])
		for _, want := range []string{`"X-Kaidian-OTP"`, `second_factor_required`, `code_reused`, `too_many_code_attempts`, `"x-step-up"`} {
			if !strings.Contains(string(op), want) {
				t.Errorf("%s: the document lacks %s", p, want)
			}
		}
	}
	op, _ := json.Marshal(doc.Paths["/enrol"]["post"])
	if strings.Contains(string(op), "totp_enrolment_required") || strings.Contains(string(op), "second_factor_required") {
		t.Errorf("/enrol documents codes it never answers: %s", op)
	}
}
