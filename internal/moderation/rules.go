package moderation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kaidian/kaidian/internal/moderation/engine"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Rule scopes: the shared base list and the operator's rules apply to
// every shop; a shop's rules only to it.
const (
	ScopeBase     = "base"
	ScopeOperator = "operator"
	ScopeShop     = "shop"
)

// Rule is a stored rule. Level "allow" makes the word an allow-list entry.
type Rule struct {
	ID        int64     `json:"id"`
	Scope     string    `json:"scope" enum:"base,operator,shop" doc:"base, operator or shop"`
	Word      string    `json:"word"`
	Category  string    `json:"category" doc:"politics, porn, abuse, fraud, ads, …"`
	Level     string    `json:"level" enum:"block,review,allow" doc:"block, review, or allow (an allow-list word)"`
	Forms     string    `json:"forms" doc:"also match pinyin and/or initials: \"pinyin\", \"initials\", \"pinyin,initials\""`
	CreatedAt time.Time `json:"created_at"`
}

// NewRule is a rule to add.
type NewRule struct {
	Scope    string `json:"scope" doc:"base, operator or shop (default shop)"`
	Word     string `json:"word"`
	Category string `json:"category"`
	Level    string `json:"level" doc:"block, review or allow"`
	Forms    string `json:"forms"`
}

// ImportResult says what an import did.
type ImportResult struct {
	Rules    int  `json:"rules" doc:"rules read from the file"`
	Replaced bool `json:"replaced" doc:"the scope's previous rules were deleted first"`
}

// MaxImportBytes bounds an imported rule file.
const MaxImportBytes = 16 << 20

// scopeKey is the version and uniqueness key of a scope: 0 for the
// shared lists, the shop's id for a shop's rules.
func scopeKey(scope string, shopID int64) (key int64, shop any, err error) {
	switch scope {
	case ScopeBase, ScopeOperator:
		return 0, nil, nil
	case ScopeShop, "":
		if shopID == 0 {
			return 0, nil, errs.E(errs.Invalid, "shop_required", "pick a shop (X-Shop-Id) for shop rules")
		}
		return shopID, shopID, nil
	}
	return 0, nil, errs.Field("scope", "invalid_scope", "must be base, operator or shop")
}

func normScope(scope string) string {
	if scope == "" {
		return ScopeShop
	}
	return scope
}

func (in NewRule) rule() (engine.Rule, error) {
	forms, err := engine.ParseForms(strings.TrimSpace(in.Forms))
	if err != nil {
		return engine.Rule{}, errs.Field("forms", "invalid_forms", err.Error())
	}
	r := engine.Rule{Word: strings.TrimSpace(in.Word), Category: strings.TrimSpace(in.Category), Level: engine.Level(in.Level), Forms: forms}
	if err := engine.CheckRule(r); err != nil {
		return engine.Rule{}, errs.Field("rule", "invalid_rule", err.Error())
	}
	return r, nil
}

// AddRule adds (or replaces, by word) one rule in a scope.
func (s *Service) AddRule(ctx context.Context, shopID int64, in NewRule) (Rule, error) {
	key, shop, err := scopeKey(in.Scope, shopID)
	if err != nil {
		return Rule{}, err
	}
	r, err := in.rule()
	if err != nil {
		return Rule{}, err
	}
	scope := normScope(in.Scope)
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := upsertRules(ctx, tx, scope, key, shop, []engine.Rule{r}); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT id FROM moderation_rules WHERE scope = ? AND scope_key = ? AND word = ?`,
			scope, key, r.Word).Scan(&id); err != nil {
			return err
		}
		return bumpVersion(ctx, tx, key)
	})
	if err != nil {
		return Rule{}, errs.Wrap("add rule", err)
	}
	s.syncNow(ctx)
	return s.getRule(ctx, id)
}

// DeleteRule removes a rule of the scope.
func (s *Service) DeleteRule(ctx context.Context, shopID int64, scope string, id int64) error {
	key, _, err := scopeKey(scope, shopID)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := db.ExpectOne(tx.Exec(ctx, `DELETE FROM moderation_rules WHERE id = ? AND scope = ? AND scope_key = ?`, id, normScope(scope), key))
		if db.IsNoRows(err) {
			return errRuleNotFound
		}
		if err != nil {
			return err
		}
		return bumpVersion(ctx, tx, key)
	})
	if err != nil {
		return errs.Wrap("delete rule", err)
	}
	s.syncNow(ctx)
	return nil
}

var errRuleNotFound = errs.E(errs.NotFound, "rule_not_found", "no such rule")

// ListRules returns a scope's rules, oldest first, after the cursor.
func (s *Service) ListRules(ctx context.Context, shopID int64, scope string, after int64, limit int) ([]Rule, error) {
	key, _, err := scopeKey(scope, shopID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.db.Query(ctx, `SELECT id, scope, word, category, level, forms, created_at FROM moderation_rules
		WHERE scope = ? AND scope_key = ? AND id > ? ORDER BY id LIMIT ?`, normScope(scope), key, after, limit)
	if err != nil {
		return nil, errs.Wrap("list rules", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, errs.Wrap("list rules", err)
		}
		out = append(out, r)
	}
	return out, errs.Wrap("list rules", rows.Err())
}

type scanner interface{ Scan(dest ...any) error }

func scanRule(sc scanner) (Rule, error) {
	var r Rule
	var created int64
	err := sc.Scan(&r.ID, &r.Scope, &r.Word, &r.Category, &r.Level, &r.Forms, &created)
	r.CreatedAt = time.UnixMilli(created).UTC()
	return r, err
}

func (s *Service) getRule(ctx context.Context, id int64) (Rule, error) {
	r, err := scanRule(s.db.QueryRow(ctx, `SELECT id, scope, word, category, level, forms, created_at FROM moderation_rules WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return Rule{}, errRuleNotFound
	}
	return r, errs.Wrap("get rule", err)
}

// Import reads a rule file (format "text": word<TAB>category<TAB>level
// [<TAB>forms] per line; "csv": with a header word,category,level[,forms])
// into a scope, all or nothing. With replace the scope's rules are
// deleted first; otherwise rules with the same word are updated.
func (s *Service) Import(ctx context.Context, shopID int64, scope, format string, replace bool, body io.Reader) (ImportResult, error) {
	key, shop, err := scopeKey(scope, shopID)
	if err != nil {
		return ImportResult{}, err
	}
	rules, err := readRuleFile(format, body)
	if err != nil {
		return ImportResult{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if replace {
			if _, err := tx.Exec(ctx, `DELETE FROM moderation_rules WHERE scope = ? AND scope_key = ?`, normScope(scope), key); err != nil {
				return err
			}
		}
		if err := upsertRules(ctx, tx, normScope(scope), key, shop, rules); err != nil {
			return err
		}
		return bumpVersion(ctx, tx, key)
	})
	if err != nil {
		return ImportResult{}, errs.Wrap("import rules", err)
	}
	s.syncNow(ctx)
	return ImportResult{Rules: len(rules), Replaced: replace}, nil
}

func readRuleFile(format string, body io.Reader) ([]engine.Rule, error) {
	data, err := io.ReadAll(io.LimitReader(body, MaxImportBytes+1))
	if err != nil {
		return nil, errs.E(errs.Invalid, "unreadable_body", "could not read the body")
	}
	if len(data) > MaxImportBytes {
		return nil, errs.E(errs.TooLarge, "body_too_large", "rule files are limited to 16 MiB")
	}
	var rules []engine.Rule
	switch format {
	case "", "text":
		rules, err = engine.ReadRules(bytes.NewReader(data))
	case "csv":
		rules, err = engine.ReadRulesCSV(bytes.NewReader(data))
	default:
		return nil, errs.Field("format", "invalid_format", "must be text or csv")
	}
	var fe engine.FileErrors
	if errors.As(err, &fe) {
		return nil, lineErrors(fe)
	}
	if err != nil {
		return nil, errs.E(errs.Invalid, "invalid_rule_file", err.Error())
	}
	if len(rules) == 0 {
		return nil, errs.E(errs.Invalid, "empty_rule_file", "the file has no rules")
	}
	return dedupe(rules), nil
}

// lineErrors reports up to 50 bad lines as fields "line N".
func lineErrors(fe engine.FileErrors) error {
	e := errs.E(errs.Invalid, "invalid_rule_file", fmt.Sprintf("%d bad line(s); nothing was imported", len(fe)))
	e.Fields = map[string]string{}
	for _, le := range fe[:min(len(fe), 50)] {
		e.Fields[fmt.Sprintf("line %d", le.Line)] = le.Err
	}
	return e
}

// dedupe keeps the last rule of each word, as the upsert would.
func dedupe(rules []engine.Rule) []engine.Rule {
	last := make(map[string]int, len(rules))
	for i, r := range rules {
		last[r.Word] = i
	}
	out := rules[:0:0]
	for i, r := range rules {
		if last[r.Word] == i {
			out = append(out, r)
		}
	}
	return out
}

// upsertRules writes rules in batches of multi-row inserts.
func upsertRules(ctx context.Context, tx *db.Tx, scope string, key int64, shop any, rules []engine.Rule) error {
	const batch = 200
	now := db.Now()
	for len(rules) > 0 {
		n := min(batch, len(rules))
		var q strings.Builder
		q.WriteString(`INSERT INTO moderation_rules (scope, shop_id, scope_key, word, category, level, forms, created_at) VALUES `)
		args := make([]any, 0, n*8)
		for i, r := range rules[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, scope, shop, key, r.Word, r.Category, string(r.Level), r.Forms.String(), now)
		}
		q.WriteString(` ON CONFLICT (scope, scope_key, word) DO UPDATE SET category = excluded.category,
			level = excluded.level, forms = excluded.forms`)
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return err
		}
		rules = rules[n:]
	}
	return nil
}

func bumpVersion(ctx context.Context, tx *db.Tx, key int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO moderation_versions (scope_key, version) VALUES (?, 1)
		ON CONFLICT (scope_key) DO UPDATE SET version = moderation_versions.version + 1`, key)
	return err
}

// Export writes a scope's rules in the text or CSV format.
func (s *Service) Export(ctx context.Context, shopID int64, scope, format string, w io.Writer) error {
	key, _, err := scopeKey(scope, shopID)
	if err != nil {
		return err
	}
	if format != "" && format != "text" && format != "csv" {
		return errs.Field("format", "invalid_format", "must be text or csv")
	}
	rules, err := s.loadRules(ctx, `scope = ? AND scope_key = ?`, normScope(scope), key)
	if err != nil {
		return errs.Wrap("export rules", err)
	}
	if format == "csv" {
		return engine.WriteRulesCSV(w, rules)
	}
	return engine.WriteRules(w, rules)
}

// loadRules reads engine rules matching a condition, oldest first.
func (s *Service) loadRules(ctx context.Context, where string, args ...any) ([]engine.Rule, error) {
	rows, err := s.db.Query(ctx, `SELECT word, category, level, forms FROM moderation_rules WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Rule
	for rows.Next() {
		var r engine.Rule
		var level, forms string
		if err := rows.Scan(&r.Word, &r.Category, &level, &forms); err != nil {
			return nil, err
		}
		r.Level = engine.Level(level)
		r.Forms, _ = engine.ParseForms(forms)
		out = append(out, r)
	}
	return out, rows.Err()
}
