package engine

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// LineError is a rule-file line that could not be read.
type LineError struct {
	Line int
	Err  string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Err) }

// FileErrors lists every bad line of a rule file.
type FileErrors []LineError

func (es FileErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return "bad rule file: " + strings.Join(msgs, "; ")
}

// maxRuleFileLine bounds one line of a rule file.
const maxRuleFileLine = 64 << 10

// ReadRules reads the text rule format: one rule a line,
// word<TAB>category<TAB>level, optionally <TAB>forms ("pinyin",
// "initials" or "pinyin,initials"). Level is block, review, or allow for
// an allow-list word. Blank lines and lines starting with
// '#' are skipped. Every bad line is reported (as FileErrors) and then no
// rules are returned.
func ReadRules(r io.Reader) ([]Rule, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxRuleFileLine)
	var rules []Rule
	var bad FileErrors
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rule, err := ParseRule(strings.Split(line, "\t"))
		if err != nil {
			bad = append(bad, LineError{Line: n, Err: err.Error()})
			continue
		}
		rules = append(rules, rule)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	if len(bad) > 0 {
		return nil, bad
	}
	return rules, nil
}

// ReadRulesCSV reads rules from CSV with the header word,category,level
// (and optionally forms); errors as ReadRules.
func ReadRulesCSV(r io.Reader) ([]Rule, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, FileErrors{{Line: 1, Err: "missing header word,category,level[,forms]"}}
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if len(header) < 3 || header[0] != "word" || header[1] != "category" || header[2] != "level" || len(header) > 4 || len(header) == 4 && header[3] != "forms" {
		return nil, FileErrors{{Line: 1, Err: "header must be word,category,level[,forms]"}}
	}
	var rules []Rule
	var bad FileErrors
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, LineError{Line: pe.Line, Err: pe.Err.Error()})
				continue
			}
			return nil, err
		}
		rule, err := ParseRule(rec)
		if err != nil {
			line, _ := cr.FieldPos(0)
			bad = append(bad, LineError{Line: line, Err: err.Error()})
			continue
		}
		rules = append(rules, rule)
	}
	if len(bad) > 0 {
		return nil, bad
	}
	return rules, nil
}

// ParseRule checks the fields word, category, level[, forms] of one rule.
func ParseRule(fields []string) (Rule, error) {
	if len(fields) < 3 || len(fields) > 4 {
		return Rule{}, fmt.Errorf("want word, category, level[, forms]; got %d field(s)", len(fields))
	}
	r := Rule{Word: strings.TrimSpace(fields[0]), Category: strings.TrimSpace(fields[1]), Level: Level(strings.TrimSpace(fields[2]))}
	if len(fields) == 4 {
		f, err := ParseForms(strings.TrimSpace(fields[3]))
		if err != nil {
			return Rule{}, err
		}
		r.Forms = f
	}
	return r, CheckRule(r)
}

// CheckRule reports why Build would refuse r.
func CheckRule(r Rule) error {
	switch {
	case Normalize(r.Word) == "":
		return fmt.Errorf("word %q is empty after normalisation", r.Word)
	case r.Category == "" || len(r.Category) > 32 || strings.ContainsAny(r.Category, "\t\r\n,"):
		return fmt.Errorf("category %q must be 1-32 bytes without tabs, commas or newlines", r.Category)
	case r.Level != LevelBlock && r.Level != LevelReview && r.Level != LevelAllow:
		return fmt.Errorf("level %q must be block, review or allow", r.Level)
	case len(r.Word) > 200 || strings.ContainsAny(r.Word, "\t\r\n\x00") || !utf8.ValidString(r.Word+r.Category):
		return fmt.Errorf("word must be at most 200 bytes of UTF-8 without tabs, newlines or NUL")
	}
	return nil
}

// WriteRules writes rules in the text format that ReadRules reads.
func WriteRules(w io.Writer, rules []Rule) error {
	bw := bufio.NewWriter(w)
	for _, r := range rules {
		fmt.Fprintf(bw, "%s\t%s\t%s", r.Word, r.Category, r.Level)
		if r.Forms != 0 {
			fmt.Fprintf(bw, "\t%s", r.Forms)
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteRulesCSV writes rules as CSV with a header, as ReadRulesCSV reads.
func WriteRulesCSV(w io.Writer, rules []Rule) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"word", "category", "level", "forms"})
	for _, r := range rules {
		_ = cw.Write([]string{r.Word, r.Category, string(r.Level), r.Forms.String()})
	}
	cw.Flush()
	return cw.Error()
}
