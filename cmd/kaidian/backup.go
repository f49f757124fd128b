package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kaidian/kaidian/internal/backup"
	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/server"
)

const backupUsage = `kaidian backup: backups of the database and the uploaded files

  kaidian backup [flags]              back up now: a file in backup-dir, copied to backup-s3 if set,
                                      old files pruned by backup-keep (serve also does it every backup-every)
  kaidian backup keygen               print a new backup key (keep it apart from the data folder)
  kaidian backup verify FILE [flags]  check a backup file without restoring it (seals, tables' sums, files)
  kaidian backup drill [flags]        restore the newest backup into a scratch database and check it
  kaidian restore FILE [flags]        restore FILE into the empty database of --db (or <data>/kaidian.db)
                                      and the blob store of the flags; refused if that database has data

The flags are serve's (--data, --db, --backup-key, --backup-s3, ...).
`

func runBackup(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "keygen":
		fmt.Fprintln(stdout, backup.NewKey())
		return nil
	case "verify":
		return runBackupVerify(ctx, args, stdout, getenv)
	case "", "drill":
		return runBackupNow(ctx, sub, args, stdout, getenv)
	case "help":
		fmt.Fprint(stdout, backupUsage)
		return nil
	}
	return fmt.Errorf("kaidian backup %s: unknown; see kaidian backup help", sub)
}

// runBackupNow backs up (sub "") or drills, as serve's scheduled jobs do,
// and prints the recorded run.
func runBackupNow(ctx context.Context, sub string, args []string, stdout io.Writer, getenv func(string) string) error {
	cfg, err := config.Load("backup", args, getenv)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DatabaseURL())
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil { // backup_runs must exist
		return err
	}
	files, err := server.OpenBlobStore(cfg)
	if err != nil {
		return err
	}
	svc, err := server.NewBackupService(cfg, d, files)
	if err != nil {
		return err
	}
	do := svc.Backup
	if sub == "drill" {
		do = svc.Drill
	}
	run, err := do(ctx)
	b, _ := json.MarshalIndent(run, "", "  ")
	fmt.Fprintln(stdout, string(b))
	return err
}

// fileCommand reads the arguments of a command on a backup file: the
// leading FILE, then serve's flags, of which the backup key is needed.
func fileCommand(cmd string, args []string, getenv func(string) string) (string, config.Config, []byte, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", config.Config{}, nil, fmt.Errorf("kaidian %s FILE [flags]: the backup file is missing", cmd)
	}
	cfg, err := config.Load(cmd, args[1:], getenv)
	if err != nil {
		return "", cfg, nil, err
	}
	key, err := backup.LoadKey(cfg.BackupKey, cfg.BackupKeyFile)
	return args[0], cfg, key, err
}

func runBackupVerify(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	file, _, key, err := fileCommand("backup verify", args, getenv)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := backup.Verify(ctx, f, key)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintf(stdout, "%s: good — %s schema %d, made %s by %s: %d tables, %d rows, %d files (%d bytes)\n",
		file, m.Engine, m.Schema, m.CreatedAt.Format("2006-01-02 15:04:05Z"), m.App, len(m.Tables), m.Rows, m.Blobs, m.BlobBytes)
	return nil
}

func runRestore(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	file, cfg, key, err := fileCommand("restore", args, getenv)
	if err != nil {
		return err
	}
	if _, err := os.Stat(file); err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DatabaseURL())
	if err != nil {
		return err
	}
	defer d.Close()
	files, err := server.OpenBlobStore(cfg)
	if err != nil {
		return err
	}
	res, err := backup.Restore(ctx, func() (io.ReadCloser, error) { return os.Open(file) }, d, backup.RestoreOptions{Key: key, Blobs: files})
	if errors.Is(err, backup.ErrTargetNotEmpty) {
		return fmt.Errorf("%w (target: %s)", err, cfg.Redacted()["db"])
	}
	if err != nil {
		return err
	}
	m := res.Manifest
	now, err := d.Version(ctx)
	fmt.Fprintf(stdout, "restored %s into %s in %s: %d tables, %d rows, %d files; every table's count and sum match the backup; schema %d, migrated to %d\n",
		file, d.Engine, res.Took.Round(1e6), len(m.Tables), m.Rows, m.Blobs, m.Schema, now)
	return err
}
