package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/kaidian/kaidian/internal/audit"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/httpx"
)

// recordAudit writes what an audited request did to the audit log. The
// change is made already: a failure to record is logged as an error (and
// the request still answers), never hidden.
func (s *Server) recordAudit(r *http.Request, rec httpx.AuditRecord) {
	e := audit.FromRequest(r, rec, s.clientIP(r))
	// A client that hangs up must not lose the record of what it did.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	if err := s.Audit.Append(ctx, e); err != nil {
		httpx.Logger(r.Context()).Error("audit record lost", "action", e.Action, "path", e.Target, "actor", e.Actor, "err", err)
	}
}

// NewAuditService is the audit log of the deployment cfg describes, keyed
// as serve keys it (for `kaidian audit verify`).
func NewAuditService(cfg config.Config, d *db.DB, log *slog.Logger) (*audit.Service, error) {
	box, err := SecretBox(cfg)
	if err != nil {
		return nil, err
	}
	return audit.NewService(d, box.DeriveKey(auditKeyLabel), cfg.AuditKeep, log), nil
}

// auditKeyLabel derives the audit chain's key from the secret key.
const auditKeyLabel = "audit-chain"
