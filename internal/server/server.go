// Package server wires kaidian together: it opens the database, builds the
// domain services, registers every route, and runs the HTTP server and the
// background loops.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kaidian/kaidian/internal/account"
	"github.com/kaidian/kaidian/internal/achievements"
	"github.com/kaidian/kaidian/internal/address"
	"github.com/kaidian/kaidian/internal/aftersale"
	"github.com/kaidian/kaidian/internal/agency"
	"github.com/kaidian/kaidian/internal/analytics"
	"github.com/kaidian/kaidian/internal/analytics/events"
	"github.com/kaidian/kaidian/internal/audit"
	"github.com/kaidian/kaidian/internal/backup"
	"github.com/kaidian/kaidian/internal/camp"
	"github.com/kaidian/kaidian/internal/campaign"
	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/checkin"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/console"
	"github.com/kaidian/kaidian/internal/content"
	"github.com/kaidian/kaidian/internal/contentsale"
	"github.com/kaidian/kaidian/internal/costs"
	"github.com/kaidian/kaidian/internal/freight"
	"github.com/kaidian/kaidian/internal/learning"
	"github.com/kaidian/kaidian/internal/levels"
	"github.com/kaidian/kaidian/internal/media"
	"github.com/kaidian/kaidian/internal/member"
	"github.com/kaidian/kaidian/internal/messaging"
	"github.com/kaidian/kaidian/internal/moderation"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/payment"
	"github.com/kaidian/kaidian/internal/payprovider"
	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/httpx"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/kuaidi100"
	"github.com/kaidian/kaidian/internal/platform/ratelimit"
	"github.com/kaidian/kaidian/internal/platform/region"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/session"
	"github.com/kaidian/kaidian/internal/platform/sms"
	"github.com/kaidian/kaidian/internal/platform/wechat"
	"github.com/kaidian/kaidian/internal/points"
	"github.com/kaidian/kaidian/internal/privacy"
	"github.com/kaidian/kaidian/internal/promotion"
	"github.com/kaidian/kaidian/internal/qa"
	"github.com/kaidian/kaidian/internal/recs"
	"github.com/kaidian/kaidian/internal/segment"
	"github.com/kaidian/kaidian/internal/sharecode"
	"github.com/kaidian/kaidian/internal/sheets"
	"github.com/kaidian/kaidian/internal/shop"
	"github.com/kaidian/kaidian/internal/smsgate"
	"github.com/kaidian/kaidian/internal/support"
	"github.com/kaidian/kaidian/internal/tracking"
	"github.com/kaidian/kaidian/internal/wxpush"
	"github.com/kaidian/kaidian/internal/wxshipping"
)

// Version is set at build time with -ldflags "-X …/server.Version=…".
var Version = "dev"

// Server is one kaidian process.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	DB       *db.DB
	Registry *prometheus.Registry
	API      *httpx.API
	mux      *http.ServeMux
	handler  http.Handler

	Sessions *session.Store
	Limiter  *ratelimit.Limiter
	WeChat   *wechat.Client
	Shops    *shop.Service
	// Providers are the WeChat Pay service providers shops in partner mode pay through.
	Providers *payprovider.Service
	Accounts  *account.Service
	// Agencies are the agency logins' grants of shops.
	Agencies *agency.Service
	Members  *member.Service
	Catalog  *catalog.Service
	Jobs     *jobs.Queue

	// Moderation checks buyers' and staff's text and runs the review queues.
	Moderation *moderation.Service

	// Addresses are the buyers' address books; Freight the shops' freight
	// templates (checkout prices shipping with them).
	Addresses *address.Service
	Freight   *freight.Service

	Orders   *order.Service
	Payments *payment.Service
	Shipping *wxshipping.Service
	// ShareCodes draws the mini-program codes buyers share.
	ShareCodes *sharecode.Service
	// Tracking follows shipped parcels at 快递100 (when configured).
	Tracking *tracking.Service
	// Pushes receives WeChat's message pushes and hands each event to its domain.
	Pushes *wxpush.Service
	After  *aftersale.Service
	Promos *promotion.Service
	// Segments are member tags and segments (saved rules over members).
	Segments *segment.Service
	// Campaigns send a message to a segment's members.
	Campaigns *campaign.Service
	// Points is the members' points ledger (earned, spent at checkout, expiring).
	Points *points.Service
	// PointsMall sells coupons and gifts for points.
	PointsMall *points.Mall
	// Levels are member levels by growth value, with their benefits.
	Levels *levels.Service

	// Messages sends buyers subscription messages, with the inbox as fallback.
	Messages *messaging.Service
	// SMS is the shops' SMS: settings, phone verification codes, opt-outs.
	SMS *smsgate.Service

	// Analytics answers the console's dashboard.
	Analytics *analytics.Service
	// Events stores the mini program's and the domains' events, with
	// in-memory bitmaps for funnels and retention.
	Events *events.Service
	// Sheets exports lists to XLSX and imports products and shipments.
	Sheets *sheets.Service

	// Media stores uploaded images and files in the blob store.
	Media *media.Service
	// Backups makes, keeps and drills the deployment's backups; nil
	// without a backup key.
	Backups *backup.Service
	// Support is the help desk: tickets with SLA deadlines in working time.
	Support *support.Service
	// Costs is each shop's yearly cost ledger and renewal reminders.
	Costs *costs.Service
	// Audit is the staff audit log, chained and kept at least 180 days.
	Audit *audit.Service
	// Privacy is consent, members' data exports and account deletions.
	Privacy *privacy.Service

	// Recs recommends products (co-occurrence models built by a periodic job).
	Recs *recs.Service
	// Checkins are the buyers' daily check-ins, streaks and make-up cards.
	Checkins *checkin.Service
	// Achievements are new-member tasks, badges and members' records.
	Achievements *achievements.Service
	// Content is paid content: courses, lessons, packages, plans, entitlements.
	Content *content.Service
	// Camps are training camps (训练营): daily tasks and check-ins.
	Camps *camp.Service
	// Learning is learners' progress and certificates.
	Learning *learning.Service
	// QA is comments and questions on lessons.
	QA *qa.Service
	// ContentSales sells content through WeChat virtual payment.
	ContentSales *contentsale.Service

	hotSessions hotSessionCache
}

// Options adds what only some processes have.
type Options struct {
	// Extra mounts more handlers on the mux (the demo's WeChat sandbox).
	Extra map[string]http.Handler
	// HTTPClient is used for calls to WeChat (tests); nil = a default client.
	HTTPClient *http.Client
	// RequirePublicURL refuses to start without --public-url once a shop
	// takes WeChat Pay: its notify_url would point at the listen address,
	// which WeChat cannot reach (serve sets it; the demo and tests serve
	// WeChat Pay's sandbox locally).
	RequirePublicURL bool
	// SMS sends text messages (tests and the demo point it at the SMS
	// sandbox); nil = Aliyun's and Tencent Cloud's real endpoints.
	SMS *sms.Client
}

// New opens the database, applies migrations, builds every service and
// loads the catalog read model.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*Server, error) {
	d, err := db.OpenWith(ctx, cfg.DatabaseURL(), db.Options{SQLiteSync: cfg.SQLiteSync})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, DB: d}
	if err := s.build(ctx, opts); err != nil {
		d.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) build(ctx context.Context, opts Options) error {
	applied, err := s.DB.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		s.log.Info("migrated", "applied", applied, "engine", s.DB.Engine)
	}
	if err := s.checkPublicURL(ctx, opts.RequirePublicURL); err != nil {
		return err
	}
	box, err := s.secretBox()
	if err != nil {
		return err
	}
	s.Sessions = session.NewStore(s.DB)
	s.Limiter = ratelimit.New(s.DB)
	s.WeChat = wechat.NewClient(s.cfg.WeChatAPI, opts.HTTPClient, &wechatTokens{db: s.DB})
	s.Shops = shop.NewService(s.DB, box)
	s.Shops.NoPublicURL = s.cfg.PublicURL == "" && opts.RequirePublicURL // serve: see checkPublicURL
	s.Providers = payprovider.NewService(s.DB, box)
	s.Shops.Providers = s.Providers
	s.Accounts = account.NewService(s.DB, s.Sessions)
	s.Accounts.UseTOTP(box, s.cfg.RequireTOTP)
	s.Sessions.SetIdle(session.Staff, s.cfg.StaffIdle)
	s.Agencies = agency.NewService(s.DB, s.Accounts, s.Shops, s.log)
	s.Members = member.NewService(s.DB, s.Sessions, shopApps{s.Shops}, s.WeChat)
	s.Members.SetPromoters(promoterCheck{s.DB})
	s.Segments = segment.NewService(s.DB)
	s.Catalog = catalog.NewService(s.DB, s.Shops)
	s.Catalog.SetDetailCacheBytes(int64(s.cfg.DetailCacheMB) << 20)
	s.Jobs = jobs.New(s.DB, s.log)
	s.Orders = order.NewService(s.DB, s.Shops)
	s.Addresses, s.Freight = address.NewService(s.DB), freight.NewService(s.DB)
	s.Orders.SetFreight(s.Freight)
	s.Orders.SetAddressBook(addressBook{s.Addresses})
	s.Orders.SetLogger(s.log)
	s.Orders.RegisterJobs(s.Jobs)
	s.Payments = payment.NewService(s.DB, s.Shops, s.Providers, s.Orders, s.Members,
		payment.Config{APIBase: s.cfg.WeChatPayAPI, PublicURL: s.cfg.PublicBase(), HTTP: opts.HTTPClient,
			QueryAfter: s.cfg.PayQueryAfter}, s.log)
	s.Payments.RegisterJobs(s.Jobs)
	s.Shipping = wxshipping.NewService(s.DB, s.Orders, shopApps{s.Shops}, s.Members, s.WeChat, s.log)
	s.Shipping.RegisterJobs(s.Jobs)
	s.Orders.OnShipped(s.Shipping.Shipped)
	s.Tracking = tracking.NewService(s.DB, s.parcelProvider(opts.HTTPClient),
		tracking.Config{PublicURL: s.cfg.PublicBase(), Secret: box.DeriveKey("kuaidi100-push-salt")}, s.log)
	s.Tracking.RegisterJobs(s.Jobs)
	s.Orders.OnShipped(s.Tracking.Shipped)
	s.Pushes = wxpush.NewService(s.Shops, s.log)
	s.Pushes.Handle(wxshipping.SettlementEvent, s.Shipping.SettlementPushed)
	s.Pushes.Handle(wxshipping.RemindShippingEvent, s.Shipping.RemindShippingPushed)
	s.Messages = messaging.NewService(s.DB, s.Orders, shopApps{s.Shops}, s.Members, s.WeChat, s.log)
	s.Messages.RegisterJobs(s.Jobs)
	s.Orders.OnPaid(s.Messages.Paid)
	s.Orders.OnShipped(s.Messages.Shipped)
	s.Pushes.Handle(messaging.PopupEvent, s.Messages.PopupPushed)
	s.Pushes.Handle(messaging.ChangeEvent, s.Messages.ChangePushed)
	s.SMS = smsgate.NewService(s.DB, box, smsClient(opts), s.Limiter, s.Members)
	s.Messages.SetSMS(s.SMS)
	s.Messages.SetOA(box, s.WeChat)
	s.SMS.RegisterJobs(s.Jobs)
	s.After = aftersale.NewService(s.DB, s.Orders)
	s.After.RegisterJobs(s.Jobs, s.log)
	s.Promos = promotion.NewService(s.DB, s.Shops, s.Orders, box.DeriveKey("flash-claim-token"))
	s.Promos.RegisterJobs(s.Jobs)
	s.Orders.SetPromotions(s.Promos)
	s.Points = points.NewService(s.DB)
	s.Points.RegisterJobs(s.Jobs)
	s.Orders.SetPoints(points.Checkout{Service: s.Points})
	s.wireAchievements() // its order hooks run before the points ledger's: see achievements.lockRecord
	s.Points.Hooks(s.Orders)
	s.PointsMall = points.NewMall(s.Points, s.Promos, addressBook{s.Addresses})
	s.Levels = levels.NewService(s.DB)
	s.Levels.RegisterJobs(s.Jobs, s.Points)
	s.Levels.Hooks(s.Orders)
	s.Orders.SetLevels(levels.Checkout{Service: s.Levels})
	s.Points.SetMultiplier(s.Levels)
	s.wireNotices()
	s.Campaigns = campaign.NewService(s.DB, s.Segments, s.campaignMessage)
	s.Campaigns.RegisterJobs(s.Jobs)
	s.Members.OnSessionsEnded(s.hotSessions.forget)
	s.Members.OnNewMember(func(ctx context.Context, shopID, memberID int64) {
		if err := s.Promos.GiveNewMemberCoupons(ctx, shopID, memberID); err != nil {
			s.log.Error("new-member coupons", "shop", shopID, "member", memberID, "err", err)
		}
	})
	s.Analytics = analytics.NewService(s.DB)
	s.Checkins = checkin.NewService(s.DB, checkinRewards{earn: s.Points.Earn})
	s.Checkins.OnCheckedIn(s.Achievements.CheckedIn)
	if err := s.wireEvents(ctx); err != nil {
		return err
	}
	if err := s.buildMedia(); err != nil {
		return err
	}
	s.Support = support.NewService(s.DB)
	s.Support.RegisterJobs(s.Jobs, s.log)
	s.Costs = costs.NewService(s.DB)
	s.Costs.RegisterJobs(s.Jobs, s.log)
	s.Privacy = privacy.NewService(s.DB, s.Members, s.SMS)
	s.Privacy.SetAuditDays(int(s.cfg.AuditKeep / (24 * time.Hour)))
	s.Privacy.RegisterJobs(s.Jobs, s.log)
	s.Audit = audit.NewService(s.DB, box.DeriveKey(auditKeyLabel), s.cfg.AuditKeep, s.log)
	s.Audit.RegisterJobs(s.Jobs, s.log)
	if err := s.buildBackups(); err != nil {
		return err
	}
	s.Content = content.NewService(s.DB, box.DeriveKey("content-media-url"), s.Media.Store())
	s.Content.RegisterJobs(s.Jobs)
	s.wirePaidContent(box)
	s.ShareCodes = sharecode.NewService(shopApps{s.Shops}, s.WeChat, s.Catalog, s.Promos, codeCache{s.Media.Store()})
	s.Sheets = sheets.NewService(s.DB, s.Catalog, s.Orders)
	s.Recs = recs.NewService(s.DB, s.Catalog)
	s.Recs.RegisterJobs(s.Jobs)
	s.registerJobs()
	if err := s.Catalog.Load(ctx); err != nil {
		return err
	}
	if err := s.Recs.Sync(ctx); err != nil { // the stored models: served at once after a restart
		return err
	}
	if err := s.Recs.EnsureBuilt(ctx); err != nil {
		return err
	}
	// Loading read every product once: give back its garbage and the
	// SQLite connections' page caches.
	s.DB.ReleaseIdle()
	debug.FreeOSMemory()
	if err := s.buildModeration(ctx); err != nil {
		return err
	}
	if err := s.bootstrapOperator(ctx); err != nil {
		return err
	}
	s.routes(opts.Extra)
	return nil
}

// smsClient is the SMS client of opts, or one for the real providers.
func smsClient(opts Options) *sms.Client {
	if opts.SMS != nil {
		return opts.SMS
	}
	return &sms.Client{HTTP: opts.HTTPClient}
}

// OpenBlobStore opens the blob store cfg names: an S3-compatible bucket
// when s3-endpoint is set, else the local folder.
func OpenBlobStore(cfg config.Config) (blob.Store, error) {
	if cfg.S3Endpoint != "" {
		return blob.NewS3(blob.S3Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, PathStyle: cfg.S3PathStyle, UseSSL: cfg.S3UseSSL,
			PublicURL: cfg.S3PublicURL})
	}
	return blob.NewLocal(cfg.BlobFolder())
}

// buildMedia opens the blob store (an S3-compatible bucket when
// configured, else the local folder) and the media service, whose images
// go to WeChat's image check and whose verdicts arrive as pushes.
func (s *Server) buildMedia() error {
	store, err := OpenBlobStore(s.cfg)
	if err != nil {
		return err
	}
	s.Media = media.NewService(s.DB, store, s.cfg.PublicBase(), mediaRefs{s.DB}, s.log)
	s.Media.SetChecker(mediaChecker{db: s.DB, shops: s.Shops, wechat: s.WeChat})
	s.Media.RegisterJobs(s.Jobs)
	s.Pushes.Handle(media.CheckEvent, s.Media.CheckPushed)
	return nil
}

// parcelProvider is the 快递100 account parcels are followed with, or nil
// (parcels are recorded, not followed) when none is configured.
func (s *Server) parcelProvider(hc *http.Client) tracking.Provider {
	if s.cfg.Kuaidi100Customer == "" || s.cfg.Kuaidi100Key == "" {
		return nil
	}
	return &kuaidi100.Client{BaseURL: s.cfg.Kuaidi100API, Customer: s.cfg.Kuaidi100Customer, Key: s.cfg.Kuaidi100Key, HTTP: hc}
}

// checkPublicURL refuses a start without a public URL when a shop takes
// WeChat Pay (required), and warns about one that is not HTTPS, which
// WeChat Pay refuses as notify_url.
func (s *Server) checkPublicURL(ctx context.Context, required bool) error {
	if s.cfg.PublicURL != "" {
		if !strings.HasPrefix(s.cfg.PublicURL, "https://") {
			s.log.Warn("the public URL is not https://; WeChat Pay sends notifications only to HTTPS", "public_url", s.cfg.PublicURL)
		}
		return nil
	}
	var paying int
	if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM shops WHERE mch_id <> '' OR pay_mode = 'partner'`).Scan(&paying); err != nil {
		return fmt.Errorf("count shops with WeChat Pay: %w", err)
	}
	switch {
	case paying > 0 && required:
		return fmt.Errorf("%d shop(s) take WeChat Pay: set --public-url (KAIDIAN_PUBLIC_URL) to this server's public https:// address, where WeChat sends payment notifications", paying)
	case required:
		s.log.Warn("no --public-url: a shop that sets up WeChat Pay needs it for payment notifications; set it before", "default", s.cfg.PublicBase())
	}
	return nil
}

// secretBox loads the key that seals shop secrets (see SecretBox).
func (s *Server) secretBox() (*secretbox.Box, error) { return SecretBox(s.cfg) }

// SecretBox loads the key that seals shop secrets: KAIDIAN_SECRET_KEY, or
// a key file in the data folder (created on first start). Several servers
// on one PostgreSQL database must share the key, through the variable.
func SecretBox(cfg config.Config) (*secretbox.Box, error) {
	if cfg.SecretKey != "" {
		key, err := secretbox.ParseKey(cfg.SecretKey)
		if err != nil {
			return nil, err
		}
		return secretbox.New(key)
	}
	if err := mkdirData(cfg.DataDir); err != nil {
		return nil, err
	}
	key, err := secretbox.LoadOrCreateKeyFile(filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return secretbox.New(key)
}

func (s *Server) bootstrapOperator(ctx context.Context) error {
	if s.cfg.AdminPassword == "" {
		return nil
	}
	has, err := s.Accounts.HasOperator(ctx)
	if err != nil || has {
		return err
	}
	_, err = s.Accounts.CreateOperator(ctx, account.NewAccount{Username: "admin", DisplayName: "Operator", Password: s.cfg.AdminPassword})
	if err == nil {
		s.log.Info("created operator account", "username", "admin")
	}
	return err
}

func (s *Server) routes(extra map[string]http.Handler) {
	s.mux = http.NewServeMux()
	s.API = httpx.NewAPI(s.mux, s.guards())
	s.Registry = prometheus.NewRegistry()
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(s.DB.DB, string(s.DB.Engine)),
		newCachedCollector(newJobsCollector(s.Jobs), GaugeTTL), newCachedCollector(newPaymentCollector(s.Payments), GaugeTTL))
	s.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "kaidian_refund_late_success_total",
		Help: "Refunds marked failed that WeChat Pay later reported succeeded (an alarm: money may have gone out twice)"},
		func() float64 { return float64(s.Payments.LateRefundSuccesses()) }))
	if s.Backups != nil {
		s.Registry.MustRegister(newCachedCollector(newBackupCollector(s.Backups), GaugeTTL))
	}
	metrics := httpx.NewMetrics(s.Registry)
	s.opsRoutes()
	(&account.Handlers{Svc: s.Accounts, ClientIP: s.clientIP}).Routes(s.API)
	(&shop.Handlers{Svc: s.Shops}).Routes(s.API)
	(&backup.Handlers{Svc: s.Backups}).Routes(s.API)
	(&support.Handlers{Svc: s.Support}).Routes(s.API)
	(&costs.Handlers{Svc: s.Costs}).Routes(s.API)
	(&audit.Handlers{Svc: s.Audit}).Routes(s.API)
	(&privacy.Handlers{Svc: s.Privacy, ClientIP: s.clientIP}).Routes(s.API)
	s.API.SetAuditor(s.recordAudit)
	(&payprovider.Handlers{Svc: s.Providers}).Routes(s.API)
	(&agency.Handlers{Svc: s.Agencies}).Routes(s.API)
	(&member.Handlers{Svc: s.Members}).Routes(s.API)
	(&segment.Handlers{Svc: s.Segments}).Routes(s.API)
	(&campaign.Handlers{Svc: s.Campaigns}).Routes(s.API)
	(&catalog.Handlers{Svc: s.Catalog, Viewed: s.Recs.RecordView}).Routes(s.API)
	(&recs.Handlers{Svc: s.Recs}).Routes(s.API)
	(&moderation.Handlers{Svc: s.Moderation, Check: s.Limiter.Check, ClientIP: s.clientIP}).Routes(s.API)
	(&order.Handlers{Svc: s.Orders}).Routes(s.API)
	region.Handlers{}.Routes(s.API)
	(&address.Handlers{Svc: s.Addresses}).Routes(s.API)
	(&freight.Handlers{Svc: s.Freight}).Routes(s.API)
	(&wxshipping.Handlers{Svc: s.Shipping}).Routes(s.API)
	(&tracking.Handlers{Svc: s.Tracking}).Routes(s.API)
	(&sharecode.Handlers{Svc: s.ShareCodes}).Routes(s.API)
	(&wxpush.Handlers{Svc: s.Pushes}).Routes(s.API)
	(&messaging.Handlers{Svc: s.Messages}).Routes(s.API)
	(&smsgate.Handlers{Svc: s.SMS, ClientIP: s.clientIP}).Routes(s.API)
	(&payment.Handlers{Svc: s.Payments}).Routes(s.API)
	(&aftersale.Handlers{Svc: s.After}).Routes(s.API)
	(&promotion.Handlers{Svc: s.Promos, ClientIP: s.clientIP, PerAddress: s.cfg.FlashPerAddress}).Routes(s.API)
	(&analytics.Handlers{Svc: s.Analytics}).Routes(s.API)
	(&events.Handlers{Svc: s.Events, ClientIP: s.clientIP}).Routes(s.API)
	(&sheets.Handlers{Svc: s.Sheets}).Routes(s.API)
	(&media.Handlers{Svc: s.Media}).Routes(s.API)
	(&checkin.Handlers{Svc: s.Checkins}).Routes(s.API)
	(&content.Handlers{Svc: s.Content}).Routes(s.API)
	(&camp.Handlers{Svc: s.Camps}).Routes(s.API)
	(&learning.Handlers{Svc: s.Learning}).Routes(s.API)
	(&qa.Handlers{Svc: s.QA}).Routes(s.API)
	(&contentsale.Handlers{Svc: s.ContentSales}).Routes(s.API)
	(&achievements.Handlers{Svc: s.Achievements}).Routes(s.API)
	(&points.Handlers{Svc: s.Points}).Routes(s.API)
	(&points.MallHandlers{Mall: s.PointsMall}).Routes(s.API)
	(&levels.Handlers{Svc: s.Levels}).Routes(s.API)
	for prefix, h := range extra {
		s.mux.Handle(prefix, h)
	}
	// The fallback serves the embedded admin console at /admin/ (its pages are
	// not API routes, so they stay out of the route registry) and a JSON 404
	// for everything else, /admin/api/… included.
	ui := console.New()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, "/admin/", http.StatusFound) // a browser opening the server finds the console
			return
		}
		if console.Serves(r) {
			ui.ServeHTTP(w, r)
			return
		}
		if allow := s.allowedMethods(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			httpx.WriteJSON(w, http.StatusMethodNotAllowed, httpx.ErrorBody{Code: "method_not_allowed",
				Message: r.Method + " is not allowed here; allowed: " + strings.Join(allow, ", ")})
			return
		}
		httpx.WriteJSON(w, http.StatusNotFound, httpx.ErrorBody{Code: "route_not_found", Message: "no such route; see /openapi.json"})
	})
	hardened := httpx.Harden(s.mux, httpx.Hardening{TrustProxy: s.cfg.TrustProxy, NoStore: []string{"/api/", "/admin/api/"}})
	s.handler = httpx.Middleware(hardened, s.log, metrics)
}

// allowedMethods lists the methods a route serves at r's path: r fell
// through to the fallback, so a non-empty list means a wrong method on a
// known path (405), not an unknown path (404).
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases the database.
func (s *Server) Close() error {
	if s.Promos != nil {
		s.Promos.Claimer.Close()
	}
	return s.DB.Close()
}

// Serve answers on ln until ctx ends, then shuts down gracefully: in-flight
// requests get cfg.ShutdownTimeout to finish. Background loops run alongside.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ln = limitConns(ln, s.cfg.MaxConns)
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	loops, stopLoops := context.WithCancel(context.Background())
	defer stopLoops()
	go s.Catalog.Run(loops, s.cfg.SyncInterval, s.log)
	go s.Jobs.RunWorkers(loops, time.Second, s.cfg.JobWorkers)
	go s.Recs.Run(loops, s.cfg.SyncInterval, s.log)
	go s.Events.Index().Run(loops, s.cfg.SyncInterval, func(err error) { s.log.Error("event bitmaps", "err", err) })
	go s.Moderation.Run(loops, s.cfg.SyncInterval)
	go s.Content.Run(loops, s.cfg.SyncInterval, s.log)
	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLSCert != "" {
			errc <- srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) opsRoutes() {
	const tag = "operations"
	s.API.Add(httpx.Route{Method: "GET", Path: "/healthz", Tag: tag, Summary: "The process is up", Response: statusBody{}, Handler: s.healthz})
	s.API.Add(httpx.Route{Method: "GET", Path: "/readyz", Tag: tag, Summary: "The database answers", Response: statusBody{}, Handler: s.readyz})
	s.API.Add(httpx.Route{Method: "GET", Path: "/metrics", Tag: tag, Summary: "Prometheus metrics (text format)", Handler: s.metrics})
	s.API.Add(httpx.Route{Method: "GET", Path: "/openapi.json", Tag: tag, Summary: "This document", Handler: s.openapi})
}

type statusBody struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, statusBody{Status: "ok", Version: Version})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.PingContext(ctx); err != nil {
		httpx.WriteJSON(w, http.StatusServiceUnavailable, httpx.ErrorBody{Code: "database_unreachable", Message: "the database does not answer"})
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, statusBody{Status: "ready", Version: Version})
	return nil
}

// ServeMetrics answers /metrics and Go's profiles (/debug/pprof/) on ln
// until ctx ends: the --metrics-addr listener, kept off the public address
// (the profiles are never served on it).
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(limitConns(ln, 64)); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, s.API.OpenAPI("kaidian API", Version))
	return nil
}
