package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// sealBatch is how many records one sealing transaction chains.
const sealBatch = 1000

// head is the audit_chain row.
type head struct {
	seq, prunedSeq   int64
	hash, prunedHash string
}

// rowHash is the record's link: HMAC-SHA256 over the previous link and every
// field of the record, each written with its length so no two records
// encode alike.
func (s *Service) rowHash(prev string, e Entry) string {
	m := hmac.New(sha256.New, s.key)
	for _, f := range []string{prev, strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.ID, 10),
		strconv.FormatInt(e.ShopID, 10), strconv.FormatInt(e.At.UnixMilli(), 10), strconv.FormatInt(e.ActorID, 10),
		e.Actor, e.Role, e.Addr, e.Action, e.Target, strconv.Itoa(e.Status), e.Request, e.Before, e.After, e.RequestID} {
		fmt.Fprintf(m, "%d:%s", len(f), f)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// lockHead takes the chain's lock for the rest of tx (creating the row on
// the first seal) and returns the head.
func lockHead(ctx context.Context, tx *db.Tx, now time.Time) (head, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO audit_chain (id, seq, hash, pruned_seq, pruned_hash, sealed_at)
		VALUES (1, 0, '', 0, '', 0) ON CONFLICT (id) DO NOTHING`); err != nil {
		return head{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_chain SET sealed_at = ? WHERE id = 1`, now.UnixMilli()); err != nil {
		return head{}, err
	}
	var h head
	err := tx.QueryRow(ctx, `SELECT seq, hash, pruned_seq, pruned_hash FROM audit_chain WHERE id = 1`).
		Scan(&h.seq, &h.hash, &h.prunedSeq, &h.prunedHash)
	return h, err
}

// Seal chains every record not chained yet, oldest id first, and returns
// how many. One sealer at a time: each transaction holds the head's lock.
func (s *Service) Seal(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.sealOnce(ctx)
		total += n
		if err != nil || n < sealBatch {
			return total, errs.Wrap("seal audit log", err)
		}
	}
}

func (s *Service) sealOnce(ctx context.Context) (int, error) {
	// Nothing to seal (most runs of the 5-second job): no write transaction.
	var waiting int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM audit_log WHERE hash IS NULL LIMIT 1) AS w`).Scan(&waiting); err != nil || waiting == 0 {
		return 0, err
	}
	n := 0
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		n = 0
		h, err := lockHead(ctx, tx, s.now())
		if err != nil {
			return err
		}
		rows, err := db.All(ctx, tx, scanEntry, `SELECT `+entryColumns+` FROM audit_log WHERE hash IS NULL ORDER BY id LIMIT ?`, sealBatch)
		if err != nil || len(rows) == 0 {
			return err
		}
		for _, e := range rows {
			e.Seq = h.seq + 1
			link := s.rowHash(h.hash, e)
			// Under the head's lock nobody else seals: the row is ours.
			if err := db.ExpectOne(tx.Exec(ctx, `UPDATE audit_log SET seq = ?, prev_hash = ?, hash = ? WHERE id = ? AND hash IS NULL`,
				e.Seq, h.hash, link, e.ID)); err != nil {
				return err
			}
			h.seq, h.hash = e.Seq, link
			n++
		}
		_, err = tx.Exec(ctx, `UPDATE audit_chain SET seq = ?, hash = ? WHERE id = 1`, h.seq, h.hash)
		return err
	})
	return n, err
}

// Report is what Verify found.
type Report struct {
	OK       bool   `json:"ok"`
	Checked  int64  `json:"checked" doc:"sealed records checked"`
	FirstSeq int64  `json:"first_seq" doc:"where the chain starts now (older records were pruned)"`
	LastSeq  int64  `json:"last_seq"`
	Unsealed int64  `json:"unsealed" doc:"records written but not chained yet (sealed every few seconds)"`
	Problem  string `json:"problem,omitempty" doc:"the first break found"`
	BrokenAt int64  `json:"broken_at,omitempty" doc:"the chain position where it breaks"`
}

// Verify walks the whole chain: every position from the pruned start to the
// head present once, each record's link recomputed from its fields and
// the previous link, the head matching the last record. A changed field,
// a deleted or reordered record, a removed tail or records forged without
// the key all break it.
func (s *Service) Verify(ctx context.Context) (Report, error) {
	var h head
	err := s.db.QueryRow(ctx, `SELECT seq, hash, pruned_seq, pruned_hash FROM audit_chain WHERE id = 1`).
		Scan(&h.seq, &h.hash, &h.prunedSeq, &h.prunedHash)
	if err != nil && !db.IsNoRows(err) {
		return Report{}, errs.Wrap("verify audit log", err)
	}
	rep := Report{OK: true, FirstSeq: h.prunedSeq + 1, LastSeq: h.seq}
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE hash IS NULL`).Scan(&rep.Unsealed); err != nil {
		return Report{}, errs.Wrap("verify audit log", err)
	}
	prev, want := h.prunedHash, h.prunedSeq+1
	for {
		rows, err := db.All(ctx, s.db, scanSealed, `SELECT `+entryColumns+`, COALESCE(prev_hash, ''), COALESCE(hash, '')
			FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`, want, sealBatch)
		if err != nil {
			return Report{}, errs.Wrap("verify audit log", err)
		}
		for _, r := range rows {
			if problem := s.checkLink(r, want, prev); problem != "" {
				return rep.broken(want, problem), nil
			}
			prev, want = r.hash, want+1
			rep.Checked++
		}
		if len(rows) < sealBatch {
			break
		}
	}
	if want-1 != h.seq || prev != h.hash {
		return rep.broken(want, fmt.Sprintf("the chain ends at position %d but its head says %d: records at the end were removed or the head was changed", want-1, h.seq)), nil
	}
	return rep, nil
}

func (r Report) broken(at int64, problem string) Report {
	r.OK, r.BrokenAt, r.Problem = false, at, problem
	return r
}

type sealed struct {
	Entry
	prevHash, hash string
}

func scanSealed(row db.Scanner) (sealed, error) {
	var out sealed
	var at int64
	e := &out.Entry
	err := row.Scan(&e.ID, &e.ShopID, &at, &e.ActorID, &e.Actor, &e.Role, &e.Addr, &e.Action, &e.Target, &e.Status,
		&e.Request, &e.Before, &e.After, &e.RequestID, &e.Seq, &out.prevHash, &out.hash)
	e.At = time.UnixMilli(at).UTC()
	return out, err
}

// checkLink says what is wrong with r as the record at position want after
// the link prev, or "".
func (s *Service) checkLink(r sealed, want int64, prev string) string {
	switch {
	case r.Seq != want:
		return fmt.Sprintf("position %d is missing (the next record found is at %d): a record was deleted", want, r.Seq)
	case r.prevHash != prev:
		return fmt.Sprintf("record %d does not follow the record before it: records were removed, inserted or reordered", r.ID)
	case !hmac.Equal([]byte(r.hash), []byte(s.rowHash(prev, r.Entry))):
		return fmt.Sprintf("record %d was changed after it was written", r.ID)
	}
	return ""
}

// Prune deletes sealed records older than the retention, oldest first, and
// moves the chain's start past them in the same transaction (so Verify
// starts where they ended). It returns how many it deleted.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	var total int64
	for {
		n, err := s.pruneOnce(ctx)
		total += n
		if err != nil || n == 0 {
			return total, errs.Wrap("prune audit log", err)
		}
	}
}

func (s *Service) pruneOnce(ctx context.Context) (int64, error) {
	var n int64
	cutoff := s.now().Add(-s.keep).UnixMilli()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		h, err := lockHead(ctx, tx, s.now())
		if err != nil {
			return err
		}
		// The prefix of the chain older than the cutoff, at most a batch.
		var last int64
		var link string
		err = tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log WHERE seq > ? AND seq <= ? AND at < ?
			AND seq < COALESCE((SELECT MIN(seq) FROM audit_log WHERE seq > ? AND at >= ?), ?)
			ORDER BY seq DESC LIMIT 1`, h.prunedSeq, h.prunedSeq+sealBatch, cutoff, h.prunedSeq, cutoff, h.seq+1).Scan(&last, &link)
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM audit_log WHERE seq > ? AND seq <= ?`, h.prunedSeq, last)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.Exec(ctx, `UPDATE audit_chain SET pruned_seq = ?, pruned_hash = ? WHERE id = 1`, last, link)
		return err
	})
	return n, err
}
