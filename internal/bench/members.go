package bench

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kaidian/kaidian/internal/platform/db"
)

var memberCols = []string{"shop_id", "openid", "unionid", "phone", "nickname", "created_at", "updated_at"}

// LoadMembers adds n buyers, dealt round-robin to shops 1..shops, as wx.login
// would have created them, for memory measurements of a grown shop. It does
// nothing if the database already holds n or more members.
func LoadMembers(ctx context.Context, d *db.DB, shops, n int) (int, error) {
	var have int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM members`).Scan(&have); err != nil || have >= n {
		return 0, err
	}
	now := time.Now().UnixMilli()
	const perTx = 10_000
	added := 0
	for first := have; first < n; first += perTx {
		last := min(first+perTx, n)
		args := make([]any, 0, (last-first)*len(memberCols))
		for i := first; i < last; i++ {
			args = append(args, int64(i%shops+1), fmt.Sprintf("o-bench-%09d", i), fmt.Sprintf("u-bench-%09d", i),
				fmt.Sprintf("139%08d", i), fmt.Sprintf("买家%d", i), now, now)
		}
		err := d.InTx(ctx, func(tx *db.Tx) error {
			ins := &inserter{d: d, tx: tx.Tx, stmts: map[string]*sql.Stmt{}}
			return ins.insert(ctx, "members", memberCols, args, last-first, 1000)
		})
		if err != nil {
			return added, fmt.Errorf("load members: %w", err)
		}
		added += last - first
	}
	return added, nil
}
