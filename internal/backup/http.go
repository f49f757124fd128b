package backup

import (
	"context"
	"net/http"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// Handlers serves the operators' backup routes; Svc is nil when the
// deployment has no backup key.
type Handlers struct{ Svc *Service }

// Overview is the backup screen: the status and the newest runs.
type Overview struct {
	Configured bool   `json:"configured" doc:"false: no backup key is set (KAIDIAN_BACKUP_KEY), so nothing is backed up"`
	Status     Status `json:"status"`
	Runs       []Run  `json:"runs" doc:"the newest 50 backups and drills, newest first"`
}

var errNotConfigured = errs.E(errs.Conflict, "backups_not_configured",
	"set a backup key (KAIDIAN_BACKUP_KEY or KAIDIAN_BACKUP_KEY_FILE, kept apart from the data folder) to make backups")

// Routes registers the routes. Backups are the deployment's, not a shop's:
// only operators (shops.manage) see and run them.
func (h *Handlers) Routes(api *httpx.API) {
	const tag = "admin: backups"
	api.Add(httpx.Route{Method: "GET", Path: "/admin/api/v1/backups", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops,
		Summary:  "Backups and restore drills: freshness, the last good backup, the last drill, the newest runs (operators)",
		Response: Overview{}, Handler: h.overview})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/backups", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops, StepUp: true,
		Summary: "Back up now (a failed run is answered with status failed and its error)", Errors: map[int][]string{409: {"backups_not_configured"}},
		Response: Run{}, Status: http.StatusCreated, Handler: h.backup})
	api.Add(httpx.Route{Method: "POST", Path: "/admin/api/v1/backups/drill", Tag: tag, Access: httpx.Staff, Perm: auth.PermShops, StepUp: true,
		Summary: "Restore the newest backup into a scratch database now and check it (RTO, RPO)", Errors: map[int][]string{409: {"backups_not_configured"}},
		Response: Run{}, Status: http.StatusCreated, Handler: h.drill})
}

func (h *Handlers) overview(w http.ResponseWriter, r *http.Request) error {
	o := Overview{Runs: []Run{}}
	if h.Svc == nil {
		return httpx.Respond(w, http.StatusOK, o, nil)
	}
	o.Configured = true
	var err error
	if o.Status, err = h.Svc.Status(r.Context()); err != nil {
		return err
	}
	o.Runs, err = h.Svc.Runs(r.Context(), 50)
	return httpx.Respond(w, http.StatusOK, o, err)
}

func (h *Handlers) backup(w http.ResponseWriter, r *http.Request) error {
	return h.run(w, r, (*Service).Backup)
}

func (h *Handlers) drill(w http.ResponseWriter, r *http.Request) error {
	return h.run(w, r, (*Service).Drill)
}

// run answers the recorded run, failed or not; only a run that could not
// be recorded is an error.
func (h *Handlers) run(w http.ResponseWriter, r *http.Request, do func(*Service, context.Context) (Run, error)) error {
	if h.Svc == nil {
		return errNotConfigured
	}
	run, err := do(h.Svc, r.Context())
	if run.ID == 0 {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, run)
	return nil
}
