package qa

import (
	"net/http"
	"testing"

	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/httpx/httpxtest"
)

// staffKeys may appear in no buyer answer: another buyer's or a staff
// account's id, a moderation item or a post's status.
var staffKeys = map[string]bool{"member_id": true, "staff_id": true, "moderation_item_id": true, "status": true, "verdict": true}

// TestBuyerAnswersDocumentNoStaffFields reads the document the routes
// produce: every Member and Shop route's answer is walked through its
// schemas.
func TestBuyerAnswersDocumentNoStaffFields(t *testing.T) {
	api := httpx.NewAPI(http.NewServeMux(), testGuards())
	(&Handlers{}).Routes(api)
	if n := httpxtest.CheckBuyerDocs(t, api, staffKeys); n < 4 {
		t.Fatalf("only %d buyer routes", n)
	}
}
