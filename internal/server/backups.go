package server

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kaidian/kaidian/internal/backup"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/platform/blob"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/jobs"
)

// buildBackups sets up the deployment's backups when a backup key is set:
// a backup every backup-every and a restore drill every
// backup-drill-every, each run by one process of the cluster, with the
// uploaded files included. Without a key nothing is backed up, and the
// start says so.
func (s *Server) buildBackups() error {
	svc, err := NewBackupService(s.cfg, s.DB, s.Media.Store())
	if errors.Is(err, backup.ErrNoKey) {
		s.log.Warn("backups are off: no backup key (KAIDIAN_BACKUP_KEY or KAIDIAN_BACKUP_KEY_FILE)")
		return nil
	}
	if err != nil {
		return err
	}
	s.Backups = svc
	s.scheduleBackup("backup.run", s.cfg.BackupEvery, s.Backups.Backup)
	s.scheduleBackup("backup.drill", s.cfg.BackupDrillEvery, s.Backups.Drill)
	return nil
}

// NewBackupService is the backup service cfg describes, of the database d
// and the files in files; backup.ErrNoKey when cfg has no backup key.
func NewBackupService(cfg config.Config, d *db.DB, files blob.Store) (*backup.Service, error) {
	key, err := backup.LoadKey(cfg.BackupKey, cfg.BackupKeyFile)
	if err != nil {
		return nil, err
	}
	keep, err := backup.ParseRetention(cfg.BackupKeep)
	if err != nil {
		return nil, err
	}
	offsite, err := backup.OffsiteStore(cfg.BackupS3, cfg.BackupS3AccessKey, cfg.BackupS3SecretKey)
	if err != nil {
		return nil, err
	}
	return backup.NewService(d, files, backup.Policy{Dir: cfg.BackupFolder(), Key: key, Offsite: offsite,
		Keep: keep, MaxAge: cfg.BackupMaxAge, Pace: cfg.BackupPace}, Version), nil
}

func (s *Server) scheduleBackup(kind string, every time.Duration, do func(context.Context) (backup.Run, error)) {
	if every <= 0 {
		return
	}
	s.Jobs.Every(kind, every, func(ctx context.Context, _ jobs.Job) error {
		run, err := do(ctx)
		if err != nil {
			s.log.Error(kind+" failed", "file", run.File, "err", err)
		}
		return err
	})
	s.Jobs.SetMaxRun(kind, 6*time.Hour)
}

// backupCollector exports the age of the newest good backup and the
// freshness alarm.
type backupCollector struct {
	svc        *backup.Service
	age, stale *prometheus.Desc
}

func newBackupCollector(svc *backup.Service) *backupCollector {
	return &backupCollector{svc: svc,
		age:   prometheus.NewDesc("kaidian_backup_age_seconds", "Age of the newest good backup (absent before the first).", nil, nil),
		stale: prometheus.NewDesc("kaidian_backup_stale", "1 when there is no good backup younger than backup-max-age (the freshness alarm).", nil, nil)}
}

func (c *backupCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.age; ch <- c.stale }

func (c *backupCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.svc.Status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.stale, err)
		return
	}
	stale := 0.0
	if st.Stale {
		stale = 1
	}
	ch <- prometheus.MustNewConstMetric(c.stale, prometheus.GaugeValue, stale)
	if st.LastGood != nil {
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, time.Since(st.LastGood.StartedAt).Seconds())
	}
}
