package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/config"
	"github.com/kaidian/kaidian/internal/moderation"
	"github.com/kaidian/kaidian/internal/moderation/engine"
	"github.com/kaidian/kaidian/internal/platform/db"
)

const moderateUsage = `Usage: kaidian moderate [--rules FILE] [--shop ID] [server flags] < lines

Reads text on stdin, one item per line, and prints one JSON object per line:
{"line", "verdict" (pass, review, block), "matches": [{"word", "category",
"level", "start", "end", "text"}]}; start and end are byte offsets in the
original line (start_char and end_char count characters).

  --rules FILE  rules from FILE (word<TAB>category<TAB>level[<TAB>forms] per
                line; level block, review or allow) instead of the
                configured ones in the database
  --shop ID     with the configured rules: add this shop's rules to the base
                and operator lists
`

// moderateMatch is one match in the command's output.
type moderateMatch struct {
	Word      string `json:"word"`
	Category  string `json:"category"`
	Level     string `json:"level"`
	Start     int    `json:"start"`
	End       int    `json:"end"`
	StartChar int    `json:"start_char"`
	EndChar   int    `json:"end_char"`
	Text      string `json:"text"`
}

type moderateLine struct {
	Line    int             `json:"line"`
	Verdict string          `json:"verdict"`
	Matches []moderateMatch `json:"matches"`
}

// runModerate is `kaidian moderate`.
func runModerate(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	own, rest := splitFlags(args, "rules", "shop")
	fs := flag.NewFlagSet("moderate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	rulesFile := fs.String("rules", "", "")
	shopID := fs.Int64("shop", 0, "")
	if err := fs.Parse(own); err != nil {
		return fmt.Errorf("%w\n%s", err, moderateUsage)
	}
	if len(rest) == 1 && (rest[0] == "-h" || rest[0] == "--help") {
		fmt.Fprint(stdout, moderateUsage)
		return nil
	}
	var e *engine.Engine
	var err error
	if *rulesFile != "" {
		if len(rest) > 0 {
			return fmt.Errorf("moderate: --rules takes no server flags, got %q", rest)
		}
		e, err = engineFromFile(*rulesFile)
	} else {
		e, err = configuredEngine(ctx, rest, getenv, *shopID)
	}
	if err != nil {
		return err
	}
	return moderateLines(e, stdin, stdout)
}

// splitFlags separates the named flags (and their values) from the rest.
func splitFlags(args []string, names ...string) (own, rest []string) {
	isOwn := func(a string) (bool, bool) { // (ours, value inline)
		name, _, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			return false, false
		}
		for _, n := range names {
			if name == n {
				return true, inline
			}
		}
		return false, false
	}
	for i := 0; i < len(args); i++ {
		ours, inline := isOwn(args[i])
		switch {
		case !ours:
			rest = append(rest, args[i])
		case inline || i+1 == len(args):
			own = append(own, args[i])
		default:
			own = append(own, args[i], args[i+1])
			i++
		}
	}
	return own, rest
}

func engineFromFile(path string) (*engine.Engine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rules, err := engine.ReadRules(f)
	if err != nil {
		var fe engine.FileErrors
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: %d bad line(s):\n  %s", path, len(fe), joinLineErrors(fe))
		}
		return nil, err
	}
	return engine.Build(rules, nil)
}

func joinLineErrors(fe engine.FileErrors) string {
	msgs := make([]string, len(fe))
	for i, e := range fe {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n  ")
}

// moderateLines checks every input line and writes one JSON object each.
func moderateLines(e *engine.Engine, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReaderSize(stdin, 64<<10)
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for n := 1; ; n++ {
		line, err := in.ReadString('\n')
		if line == "" && err != nil {
			if errors.Is(err, io.EOF) {
				return out.Flush()
			}
			return err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if err := enc.Encode(moderateOne(e, n, line)); err != nil {
			return err
		}
	}
}

func moderateOne(e *engine.Engine, n int, line string) moderateLine {
	verdict, ms := e.Verdict(line)
	res := moderateLine{Line: n, Verdict: verdict, Matches: make([]moderateMatch, 0, len(ms))}
	for _, m := range ms {
		res.Matches = append(res.Matches, moderateMatch{
			Word: m.Rule.Word, Category: m.Rule.Category, Level: string(m.Rule.Level),
			Start: m.Start, End: m.End, Text: line[m.Start:m.End],
			StartChar: utf8.RuneCountInString(line[:m.Start]), EndChar: utf8.RuneCountInString(line[:m.End]),
		})
	}
	return res
}

// configuredEngine builds the engine from the rules in the database: the
// base and operator lists, plus the shop's own with --shop.
func configuredEngine(ctx context.Context, args []string, getenv func(string) string, shopID int64) (*engine.Engine, error) {
	cfg, err := config.Load("moderate", args, getenv)
	if err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, cfg.DatabaseURL())
	if err != nil {
		return nil, err
	}
	defer d.Close()
	rules, err := moderation.NewService(d, nil, newLogger(cfg.LogLevel)).RulesFor(ctx, shopID)
	if err != nil {
		return nil, fmt.Errorf("reading the configured rules (has the database been migrated?): %w", err)
	}
	return engine.Build(rules, nil)
}
