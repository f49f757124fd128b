package server

import (
	"context"

	"github.com/kaidian/kaidian/internal/platform/db"
)

// promoterCheck tells the member service whether the promoter a new
// member's source names is one of the shop's (promotion owns the table;
// member sits below it and cannot ask it).
type promoterCheck struct{ db *db.DB }

func (p promoterCheck) PromoterExists(ctx context.Context, shopID, promoterID int64) (bool, error) {
	var one int
	err := p.db.QueryRow(ctx, `SELECT 1 FROM promoters WHERE id = ? AND shop_id = ?`, promoterID, shopID).Scan(&one)
	if db.IsNoRows(err) {
		return false, nil
	}
	return err == nil, err
}
