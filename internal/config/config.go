// Package config reads kaidian's settings from flags, KAIDIAN_* environment
// variables and an optional file of KEY=VALUE lines, in that order of
// precedence, over built-in defaults.
package config

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of a kaidian process.
type Config struct {
	Addr              string        // listen address
	DataDir           string        // data folder: SQLite file, secret key file
	DB                string        // postgres://… URL, or a SQLite file path; default <data>/kaidian.db
	SecretKey         string        // base64 32-byte key that seals shop secrets; default <data>/secret.key
	WeChatAPI         string        // base URL of WeChat's mini-program API
	WeChatPayAPI      string        // base URL of WeChat Pay API v3
	PublicURL         string        // this server's public base URL (WeChat Pay notify_url); default http://<addr>
	LogLevel          string        // debug, info, warn, error
	TrustProxy        bool          // take the client address from X-Forwarded-For
	AdminPassword     string        // creates operator "admin" with this password when no operator exists
	ShutdownTimeout   time.Duration // how long in-flight requests get on SIGTERM
	SyncInterval      time.Duration // how often the catalog read model polls for changes
	PayQueryAfter     time.Duration // how long to wait for a WeChat Pay notification before querying
	SQLiteSync        string        // normal or full: whether every SQLite commit waits for the disk
	FlashPerAddress   int           // flash-sale claims one client address may send per second
	MetricsAddr       string        // serve /metrics on this address only (not on Addr)
	MetricsToken      string        // /metrics needs Authorization: Bearer <token>
	MaxConns          int           // open connections the listener accepts at once
	JobWorkers        int           // background jobs this process runs at once
	DetailCacheMB     int           // memory budget of the buyers' product-detail cache, MiB
	MemoryLimitMB     int           // serve: the Go runtime's soft memory limit, MiB (GOMEMLIMIT wins)
	TLSCert           string        // certificate file: serve HTTPS (with TLSKey)
	TLSKey            string        // private key file of TLSCert
	Kuaidi100API      string        // base URL of 快递100's API
	Kuaidi100Customer string        // 快递100 account: customer (授权 customer); empty = parcels are not followed
	Kuaidi100Key      string        // 快递100 account: key (授权 key)
	RequireTOTP       bool          // owners and operators must use two-step verification (on for serve)
	StaffIdle         time.Duration // a staff session ends after this long without a request (0: never)

	// Blob storage (images, attachments): the local folder BlobDir
	// (default <data>/blobs), or an S3-compatible bucket when S3Endpoint
	// is set.
	BlobDir     string
	S3Endpoint  string // host[:port] of OSS, COS, MinIO, AWS S3
	S3Bucket    string
	S3Region    string
	S3AccessKey string
	S3SecretKey string // never logged
	S3PathStyle bool   // bucket in the path (MinIO) rather than the host name
	S3UseSSL    bool
	S3PublicURL string // public or CDN base URL of the bucket; unset = presigned URLs

	// Backups (internal/backup): sealed with BackupKey (base64, or read
	// from BackupKeyFile), kept apart from the data folder; none are made
	// without one.
	BackupKey         string
	BackupKeyFile     string
	BackupDir         string        // default <data>/backups
	BackupEvery       time.Duration // 0: no scheduled backups
	BackupKeep        string        // retention, e.g. 7d,4w,12m
	BackupMaxAge      time.Duration // the freshness alarm's limit
	BackupDrillEvery  time.Duration // 0: no scheduled drills
	BackupS3          string        // off-site copy: https://host[:port]/bucket?region=…&path_style=true
	BackupS3AccessKey string
	BackupS3SecretKey string // never logged
	// AuditKeep is how long the staff audit log is kept (at least 180 days).
	AuditKeep  time.Duration
	BackupPace float64 // share of one core a backup may take

	// Warnings are problems found while loading that do not stop a start,
	// such as unknown keys in the config file.
	Warnings []string
}

// setting describes one option: its flag, its variable and its default.
type setting struct {
	flag, env, def, help string
	set                  func(c *Config, v string) error
	isBool               bool // a switch: --flag alone means true
}

// serveDefaults are the defaults of kaidian serve where they differ from
// the others' (demo, tests, benchmarks): a real deployment requires
// two-step verification of owners and operators, a demo does not.
var serveDefaults = map[string]string{"require-totp": "true"}

// defaultFor is s's default for command name.
func (s setting) defaultFor(name string) string {
	if d, ok := serveDefaults[s.flag]; ok && name == "serve" {
		return d
	}
	return s.def
}

var settings = []setting{
	{"addr", "KAIDIAN_ADDR", "127.0.0.1:8080", "listen address", func(c *Config, v string) error { c.Addr = v; return nil }, false},
	{"data", "KAIDIAN_DATA", "./kaidian-data", "data folder (SQLite database, secret key)", func(c *Config, v string) error { c.DataDir = v; return nil }, false},
	{"db", "KAIDIAN_DB", "", "database: postgres://… or a SQLite file (default <data>/kaidian.db)", func(c *Config, v string) error { c.DB = v; return nil }, false},
	{"secret-key", "KAIDIAN_SECRET_KEY", "", "base64 32-byte key sealing shop secrets (default: <data>/secret.key, created if missing)", func(c *Config, v string) error { c.SecretKey = v; return nil }, false},
	{"wechat-api", "KAIDIAN_WECHAT_API", "https://api.weixin.qq.com", "WeChat mini-program API base URL", func(c *Config, v string) error { c.WeChatAPI = strings.TrimRight(v, "/"); return nil }, false},
	{"kuaidi100-api", "KAIDIAN_KUAIDI100_API", "https://poll.kuaidi100.com", "快递100 API base URL (parcel tracking)", func(c *Config, v string) error { c.Kuaidi100API = strings.TrimRight(v, "/"); return nil }, false},
	{"kuaidi100-customer", "KAIDIAN_KUAIDI100_CUSTOMER", "", "快递100 customer id: parcels of shipped orders are followed and buyers see their route (with --kuaidi100-key)", func(c *Config, v string) error { c.Kuaidi100Customer = v; return nil }, false},
	{"kuaidi100-key", "KAIDIAN_KUAIDI100_KEY", "", "快递100 authorization key", func(c *Config, v string) error { c.Kuaidi100Key = v; return nil }, false},
	{"wechatpay-api", "KAIDIAN_WECHATPAY_API", "https://api.mch.weixin.qq.com", "WeChat Pay API v3 base URL", func(c *Config, v string) error { c.WeChatPayAPI = strings.TrimRight(v, "/"); return nil }, false},
	{"public-url", "KAIDIAN_PUBLIC_URL", "", "this server's public base URL, for WeChat Pay notifications (default http://<addr>)", func(c *Config, v string) error { c.PublicURL = strings.TrimRight(v, "/"); return nil }, false},
	{"log-level", "KAIDIAN_LOG_LEVEL", "info", "log level: debug, info, warn, error", func(c *Config, v string) error { c.LogLevel = v; return nil }, false},
	{"trust-proxy", "KAIDIAN_TRUST_PROXY", "false", "trust X-Forwarded-For and X-Forwarded-Proto from a load balancer (a switch: --trust-proxy)", boolSetter(func(c *Config) *bool { return &c.TrustProxy }), true},
	{"admin-password", "KAIDIAN_ADMIN_PASSWORD", "", "create operator 'admin' with this password if there is no operator", func(c *Config, v string) error { c.AdminPassword = v; return nil }, false},
	{"shutdown-timeout", "KAIDIAN_SHUTDOWN_TIMEOUT", "20s", "time in-flight requests get on SIGTERM", durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout }), false},
	{"pay-query-after", "KAIDIAN_PAY_QUERY_AFTER", "1m", "wait this long for a WeChat Pay notification before asking WeChat", durationSetter(func(c *Config) *time.Duration { return &c.PayQueryAfter }), false},
	{"sqlite-sync", "KAIDIAN_SQLITE_SYNC", "normal", "SQLite durability: normal (survives a process crash) or full (every commit waits for the disk, survives a power cut)", func(c *Config, v string) error { c.SQLiteSync = v; return nil }, false},
	{"flash-per-address", "KAIDIAN_FLASH_PER_ADDRESS", "20", "flash-sale claims one client address may send per second (see trust-proxy)", intSetter(func(c *Config) *int { return &c.FlashPerAddress }), false},
	{"sync-interval", "KAIDIAN_SYNC_INTERVAL", "1s", "how often the catalog picks up other servers' changes", durationSetter(func(c *Config) *time.Duration { return &c.SyncInterval }), false},
	{"metrics-addr", "KAIDIAN_METRICS_ADDR", "", "serve /metrics (and Go's /debug/pprof/) only on this address (e.g. 127.0.0.1:9090), not on the public one", func(c *Config, v string) error { c.MetricsAddr = v; return nil }, false},
	{"metrics-token", "KAIDIAN_METRICS_TOKEN", "", "/metrics needs Authorization: Bearer <this token>", func(c *Config, v string) error { c.MetricsToken = v; return nil }, false},
	{"detail-cache-mb", "KAIDIAN_DETAIL_CACHE_MB", "64", "memory for buyers' product pages kept encoded, in MiB (about 1.2 KB per product with 5 SKUs)", intSetter(func(c *Config) *int { return &c.DetailCacheMB }), false},
	{"memory-limit-mb", "KAIDIAN_MEMORY_LIMIT_MB", "256", "serve: soft limit of the Go heap in MiB (garbage is collected harder near it; the GOMEMLIMIT variable, if set, wins)", intSetter(func(c *Config) *int { return &c.MemoryLimitMB }), false},
	{"job-workers", "KAIDIAN_JOB_WORKERS", "1", "background jobs (refunds, messages, WeChat calls) one process runs at once; with more, a slow WeChat call holds only its own (each uses a database connection of the process's 32)", intSetter(func(c *Config) *int { return &c.JobWorkers }), false},
	{"max-conns", "KAIDIAN_MAX_CONNS", "4096", "open connections accepted at once; more wait in the kernel's backlog", intSetter(func(c *Config) *int { return &c.MaxConns }), false},
	{"tls-cert", "KAIDIAN_TLS_CERT", "", "certificate file (PEM): serve HTTPS directly, with tls-key", func(c *Config, v string) error { c.TLSCert = v; return nil }, false},
	{"tls-key", "KAIDIAN_TLS_KEY", "", "private key file (PEM) of tls-cert", func(c *Config, v string) error { c.TLSKey = v; return nil }, false},
	{"blob-dir", "KAIDIAN_BLOB_DIR", "", "folder of uploaded images and files (default <data>/blobs; unused with s3-endpoint)", func(c *Config, v string) error { c.BlobDir = v; return nil }, false},
	{"s3-endpoint", "KAIDIAN_S3_ENDPOINT", "", "store uploads in an S3-compatible bucket at this host[:port] (Aliyun OSS, Tencent COS, MinIO, AWS S3)", func(c *Config, v string) error { c.S3Endpoint = v; return nil }, false},
	{"s3-bucket", "KAIDIAN_S3_BUCKET", "", "bucket of s3-endpoint", func(c *Config, v string) error { c.S3Bucket = v; return nil }, false},
	{"s3-region", "KAIDIAN_S3_REGION", "", "region of the bucket (e.g. oss-cn-hangzhou, ap-shanghai, us-east-1)", func(c *Config, v string) error { c.S3Region = v; return nil }, false},
	{"s3-access-key", "KAIDIAN_S3_ACCESS_KEY", "", "access key id of the bucket", func(c *Config, v string) error { c.S3AccessKey = v; return nil }, false},
	{"s3-secret-key", "KAIDIAN_S3_SECRET_KEY", "", "secret access key of the bucket (prefer the variable to the flag; never logged)", func(c *Config, v string) error { c.S3SecretKey = v; return nil }, false},
	{"s3-path-style", "KAIDIAN_S3_PATH_STYLE", "false", "address the bucket in the path, not the host name (MinIO; a switch)", boolSetter(func(c *Config) *bool { return &c.S3PathStyle }), true},
	{"s3-use-ssl", "KAIDIAN_S3_USE_SSL", "true", "talk to s3-endpoint over HTTPS", boolSetter(func(c *Config) *bool { return &c.S3UseSSL }), true},
	{"backup-key", "KAIDIAN_BACKUP_KEY", "", "base64 32-byte key sealing backups; keep it apart from the data folder (kaidian backup keygen prints one); unset: no backups", func(c *Config, v string) error { c.BackupKey = v; return nil }, false},
	{"backup-key-file", "KAIDIAN_BACKUP_KEY_FILE", "", "file holding backup-key (outside the data folder)", func(c *Config, v string) error { c.BackupKeyFile = v; return nil }, false},
	{"backup-dir", "KAIDIAN_BACKUP_DIR", "", "folder of backup files (default <data>/backups)", func(c *Config, v string) error { c.BackupDir = v; return nil }, false},
	{"backup-every", "KAIDIAN_BACKUP_EVERY", "24h", "how often serve backs up (0: never; with a backup key)", durationSetter(func(c *Config) *time.Duration { return &c.BackupEvery }), false},
	{"backup-keep", "KAIDIAN_BACKUP_KEEP", "7d,4w,12m", "backups kept: the newest of each of the last N days, weeks and months (Asia/Shanghai days)", func(c *Config, v string) error { c.BackupKeep = v; return nil }, false},
	{"backup-max-age", "KAIDIAN_BACKUP_MAX_AGE", "26h", "the newest good backup older than this raises the freshness alarm", durationSetter(func(c *Config) *time.Duration { return &c.BackupMaxAge }), false},
	{"backup-drill-every", "KAIDIAN_BACKUP_DRILL_EVERY", "168h", "how often the newest backup is restored into a scratch database and checked (0: never)", durationSetter(func(c *Config) *time.Duration { return &c.BackupDrillEvery }), false},
	{"backup-pace", "KAIDIAN_BACKUP_PACE", "0.5", "share of one CPU core a backup may take (it pauses the rest), so the shop keeps most of the machine; 1: as fast as it can", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err == nil && (f <= 0 || f > 1) {
			err = fmt.Errorf("must be above 0 and at most 1")
		}
		c.BackupPace = f
		return err
	}, false},
	{"backup-s3", "KAIDIAN_BACKUP_S3", "", "off-site copy of every backup: https://host[:port]/bucket?region=…[&path_style=true] (Aliyun OSS, Tencent COS, MinIO, AWS S3)", func(c *Config, v string) error { c.BackupS3 = v; return nil }, false},
	{"backup-s3-access-key", "KAIDIAN_BACKUP_S3_ACCESS_KEY", "", "access key id of backup-s3", func(c *Config, v string) error { c.BackupS3AccessKey = v; return nil }, false},
	{"backup-s3-secret-key", "KAIDIAN_BACKUP_S3_SECRET_KEY", "", "secret access key of backup-s3 (prefer the variable; never logged)", func(c *Config, v string) error { c.BackupS3SecretKey = v; return nil }, false},
	{"require-totp", "KAIDIAN_REQUIRE_TOTP", "false", "owners and operators must set up two-step verification (TOTP) before they can act, then log in with a code (a shop may require it of every role)", boolSetter(func(c *Config) *bool { return &c.RequireTOTP }), true},
	{"staff-idle-timeout", "KAIDIAN_STAFF_IDLE_TIMEOUT", "30m", "an admin session ends after this long without a request (0: only its 12-hour lifetime)", durationSetter(func(c *Config) *time.Duration { return &c.StaffIdle }), false},
	{"audit-keep", "KAIDIAN_AUDIT_KEEP", "4320h", "how long the staff audit log is kept (at least 4320h, 180 days: the database refuses to delete younger records)", durationSetter(func(c *Config) *time.Duration { return &c.AuditKeep }), false},
	{"s3-public-url", "KAIDIAN_S3_PUBLIC_URL", "", "public (or CDN) base URL of the bucket; unset: files are sent through short-lived presigned URLs", func(c *Config, v string) error { c.S3PublicURL = strings.TrimRight(v, "/"); return nil }, false},
}

func intSetter(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err == nil && n < 1 {
			err = fmt.Errorf("must be at least 1")
		}
		*field(c) = n
		return err
	}
}

func boolSetter(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		*field(c) = b
		return err
	}
}

func durationSetter(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		*field(c) = d
		return err
	}
}

// Load parses args (the command's flags) with getenv for the environment.
// --config FILE (or KAIDIAN_CONFIG) names a file of KAIDIAN_X=value lines.
func Load(name string, args []string, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	values := map[string]*string{}
	for _, s := range settings {
		v := &flagValue{s: s.defaultFor(name), isBool: s.isBool}
		fs.Var(v, s.flag, s.help+" (env "+s.env+")")
		values[s.flag] = &v.s
	}
	file := fs.String("config", getenv("KAIDIAN_CONFIG"), "file of KAIDIAN_*=value lines (env KAIDIAN_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (switches such as --trust-proxy take no value; write --trust-proxy=false to turn one off)", fs.Arg(0))
	}
	fromFile, err := readFile(*file)
	if err != nil {
		return Config{}, err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	var c Config
	c.Warnings = unknownKeys(fromFile, "config file "+*file)
	for _, s := range settings {
		v := pick(*values[s.flag], explicit[s.flag], getenv(s.env), fromFile[s.env], s.defaultFor(name))
		if err := s.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("%s / %s: %v", s.flag, s.env, err)
		}
	}
	return c, c.check()
}

// pick applies the precedence: flag, environment, file, default.
func pick(flagValue string, flagSet bool, env, file, def string) string {
	switch {
	case flagSet:
		return flagValue
	case env != "":
		return env
	case file != "":
		return file
	}
	return def
}

func readFile(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config file %s line %d: want KEY=value", path, n)
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return out, sc.Err()
}

// flagValue holds a flag's text; a switch (isBool) may stand alone.
type flagValue struct {
	s      string
	isBool bool
}

func (f *flagValue) String() string     { return f.s }
func (f *flagValue) Set(v string) error { f.s = v; return nil }
func (f *flagValue) IsBoolFlag() bool   { return f.isBool }

// known reports whether name is a KAIDIAN_* variable kaidian reads.
func known(name string) bool {
	if name == "KAIDIAN_CONFIG" {
		return true
	}
	for _, s := range settings {
		if s.env == name {
			return true
		}
	}
	return others[name]
}

// others are KAIDIAN_* variables read outside this package (tests, tools).
var others = map[string]bool{"KAIDIAN_TEST_POSTGRES": true}

func unknownKeys(m map[string]string, where string) []string {
	var out []string
	for k := range m {
		if !known(k) {
			out = append(out, fmt.Sprintf("%s: unknown setting %s (ignored)", where, k))
		}
	}
	sort.Strings(out)
	return out
}

// UnknownVariables lists the KAIDIAN_* variables of environ (os.Environ)
// that no setting reads: most likely misspelt.
func UnknownVariables(environ []string) []string {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "KAIDIAN_") {
			vars[k] = v
		}
	}
	return unknownKeys(vars, "environment")
}

func (c Config) check() error {
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log-level must be debug, info, warn or error, not %q", c.LogLevel)
	}
	if c.StaffIdle < 0 {
		return fmt.Errorf("staff-idle-timeout must not be negative")
	}
	if c.ShutdownTimeout <= 0 || c.SyncInterval <= 0 {
		return fmt.Errorf("shutdown-timeout and sync-interval must be positive")
	}
	if c.JobWorkers < 1 || c.JobWorkers > 64 {
		return fmt.Errorf("job-workers must be 1 to 64, not %d", c.JobWorkers)
	}
	if c.S3Endpoint != "" && c.S3Bucket == "" {
		return fmt.Errorf("s3-endpoint needs s3-bucket")
	}
	if c.BackupEvery < 0 || c.BackupDrillEvery < 0 || c.BackupMaxAge <= 0 {
		return fmt.Errorf("backup-every and backup-drill-every must not be negative, backup-max-age must be positive")
	}
	if c.AuditKeep < 180*24*time.Hour {
		return fmt.Errorf("audit-keep must be at least 4320h (180 days), not %s", c.AuditKeep)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("tls-cert and tls-key go together")
	}
	return nil
}

// PublicBase is PublicURL, or http://<addr> when unset.
func (c Config) PublicBase() string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	return "http://" + c.Addr
}

// DatabaseURL is the database to open: DB, or the SQLite file in DataDir.
func (c Config) DatabaseURL() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "kaidian.db")
}

// BlobFolder is BlobDir, or the blobs folder in DataDir.
func (c Config) BlobFolder() string {
	if c.BlobDir != "" {
		return c.BlobDir
	}
	return filepath.Join(c.DataDir, "blobs")
}

// BackupFolder is BackupDir, or the backups folder in DataDir.
func (c Config) BackupFolder() string {
	if c.BackupDir != "" {
		return c.BackupDir
	}
	return filepath.Join(c.DataDir, "backups")
}

// Redacted is the configuration with secrets hidden, for logs.
func (c Config) Redacted() map[string]any {
	db := c.DatabaseURL()
	if i := strings.Index(db, "@"); i > 0 && strings.Contains(db, "://") {
		db = db[:strings.Index(db, "://")+3] + "***" + db[i:]
	}
	return map[string]any{"addr": c.Addr, "data": c.DataDir, "db": db, "wechat_api": c.WeChatAPI,
		"wechatpay_api": c.WeChatPayAPI, "public_url": c.PublicURL,
		"log_level": c.LogLevel, "trust_proxy": c.TrustProxy, "secret_key_set": c.SecretKey != "",
		"metrics_addr": c.MetricsAddr, "metrics_token_set": c.MetricsToken != "", "max_conns": c.MaxConns, "job_workers": c.JobWorkers, "detail_cache_mb": c.DetailCacheMB, "memory_limit_mb": c.MemoryLimitMB, "tls": c.TLSCert != "",
		"kuaidi100_api": c.Kuaidi100API, "kuaidi100_customer": c.Kuaidi100Customer, "kuaidi100_key_set": c.Kuaidi100Key != "",
		"blob_dir": c.BlobFolder(), "s3_endpoint": c.S3Endpoint, "s3_bucket": c.S3Bucket, "s3_secret_key_set": c.S3SecretKey != "",
		"backup_key_set": c.BackupKey != "" || c.BackupKeyFile != "", "backup_dir": c.BackupFolder(), "backup_every": c.BackupEvery.String(),
		"backup_keep": c.BackupKeep, "require_totp": c.RequireTOTP, "staff_idle_timeout": c.StaffIdle.String(), "backup_s3": c.BackupS3, "backup_s3_secret_key_set": c.BackupS3SecretKey != ""}
}

// Usage lists every setting, for --help.
func Usage() string {
	var b strings.Builder
	for _, s := range settings {
		def := fmt.Sprintf("default %q", s.def)
		if d, ok := serveDefaults[s.flag]; ok {
			def = fmt.Sprintf("default %q; serve: %q", s.def, d)
		}
		fmt.Fprintf(&b, "  --%-17s %-26s %s (%s)\n", s.flag, s.env, s.help, def)
	}
	return b.String()
}
