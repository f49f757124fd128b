package wechat

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Keyword types of subscription-message templates. A keyword's key is its
// type followed by a number ("thing1", "amount3", "character_string2").
const (
	KwThing           = "thing"
	KwNumber          = "number"
	KwLetter          = "letter"
	KwSymbol          = "symbol"
	KwCharacterString = "character_string"
	KwTime            = "time"
	KwDate            = "date"
	KwAmount          = "amount"
	KwPhoneNumber     = "phone_number"
	KwCarNumber       = "car_number"
	KwName            = "name"
	KwPhrase          = "phrase"
)

// KeywordError says why a keyword's value would be refused by WeChat
// (errcode 47003).
type KeywordError struct {
	Key, Reason string
}

func (e *KeywordError) Error() string { return fmt.Sprintf("keyword %s: %s", e.Key, e.Reason) }

// KeywordType returns the type of a keyword key: the key without its
// trailing digits ("thing12" → "thing"); "" when the type is unknown.
func KeywordType(key string) string {
	t := strings.TrimRightFunc(key, func(r rune) bool { return r >= '0' && r <= '9' })
	if t == key || t == "" {
		return ""
	}
	if _, ok := keywordRules[t]; !ok {
		return ""
	}
	return t
}

// keywordRules are WeChat's value rules per type (subscription-message
// docs, 「模板参数值要求」): the most runes and what may appear.
var keywordRules = map[string]func(v string) string{
	KwThing:           maxRunes(20, nil),
	KwNumber:          maxRunes(32, reNumber),
	KwLetter:          maxRunes(32, reLetter),
	KwSymbol:          maxRunes(5, reSymbol),
	KwCharacterString: maxRunes(32, reCharString),
	KwTime:            checkTime,
	KwDate:            checkDate,
	KwAmount:          checkAmount,
	KwPhoneNumber:     maxRunes(17, rePhone),
	KwCarNumber:       maxRunes(8, reCar),
	KwName:            checkName,
	KwPhrase:          maxRunes(5, rePhrase),
}

var (
	reNumber     = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)
	reLetter     = regexp.MustCompile(`^[A-Za-z]+$`)
	reSymbol     = regexp.MustCompile(`^[^\p{L}\p{N}\s]+$`)
	reCharString = regexp.MustCompile(`^[\x21-\x7e]+$`) // ASCII digits, letters and symbols, no spaces
	rePhone      = regexp.MustCompile(`^\+?[0-9][0-9-]*$`)
	reCar        = regexp.MustCompile(`^\p{Han}?[A-Za-z0-9]+\p{Han}?$`)
	rePhrase     = regexp.MustCompile(`^\p{Han}+$`)
	reAmount     = regexp.MustCompile(`^[¥￥$€£]?([0-9]+)(\.([0-9]+))?元?$`)
	reHanName    = regexp.MustCompile(`\p{Han}`)
	reLatinName  = regexp.MustCompile(`^[A-Za-z .·'’…-]+$`)

	// A date is 2019年10月1日 or 2019-10-01 (or 2019/10/01); a time is a
	// 24-hour 15:01 or 15:01:30.
	dateExpr = `([0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日|[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2})`
	timeExpr = `([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?`
	reDate   = regexp.MustCompile(`^` + dateExpr + `( ?` + timeExpr + `)?$`)
	reTime   = regexp.MustCompile(`^(` + dateExpr + ` ?)?` + timeExpr + `$`)
)

func maxRunes(n int, re *regexp.Regexp) func(string) string {
	return func(v string) string {
		if c := utf8.RuneCountInString(v); c > n {
			return fmt.Sprintf("at most %d characters, got %d", n, c)
		}
		if re != nil && !re.MatchString(v) {
			return "characters this type does not take"
		}
		return ""
	}
}

// ranged checks a value that may be a range of two ("a~b").
func ranged(v string, re *regexp.Regexp, what string) string {
	parts := strings.Split(strings.ReplaceAll(v, "～", "~"), "~")
	if len(parts) > 2 {
		return "at most one ~"
	}
	for _, p := range parts {
		if !re.MatchString(strings.TrimSpace(p)) {
			return "not a " + what + " WeChat takes (e.g. 2019年10月1日 15:01 or 2019-10-01 15:01)"
		}
	}
	return ""
}

func checkTime(v string) string { return ranged(v, reTime, "24-hour time") }
func checkDate(v string) string { return ranged(v, reDate, "date") }

// checkAmount takes one currency sign, at most 10 digits (a decimal point
// may split them) and an optional trailing 元: ¥12.50, 12.50元.
func checkAmount(v string) string {
	m := reAmount.FindStringSubmatch(v)
	if m == nil {
		return "not an amount (e.g. ¥12.50 or 12.50元)"
	}
	if len(m[1])+len(m[3]) > 10 {
		return "at most 10 digits"
	}
	return ""
}

// checkName: a Chinese name (any Han in it) has at most 10 characters, a
// Latin one at most 20 letters.
func checkName(v string) string {
	n := utf8.RuneCountInString(v)
	if reHanName.MatchString(v) {
		if n > 10 {
			return fmt.Sprintf("a Chinese name has at most 10 characters, got %d", n)
		}
		return ""
	}
	if !reLatinName.MatchString(v) {
		return "a name is Chinese characters or Latin letters"
	}
	if n > 20 {
		return fmt.Sprintf("a Latin name has at most 20 letters, got %d", n)
	}
	return ""
}

// CheckKeyword reports whether WeChat would take value for key: an
// unknown type, an empty value or one its type's rules refuse is a
// *KeywordError.
func CheckKeyword(key, value string) error {
	t := KeywordType(key)
	if t == "" {
		return &KeywordError{Key: key, Reason: "unknown keyword type"}
	}
	if strings.TrimSpace(value) == "" {
		return &KeywordError{Key: key, Reason: "empty value"}
	}
	if !utf8.ValidString(value) || strings.ContainsFunc(value, unicode.IsControl) {
		return &KeywordError{Key: key, Reason: "control characters or invalid UTF-8"}
	}
	if reason := keywordRules[t](value); reason != "" {
		return &KeywordError{Key: key, Reason: reason}
	}
	return nil
}

// FitKeyword makes value fit key's type where that loses nothing that
// matters, then checks it. Only free text is cut: a thing (a product's
// title, a note) to 20 characters and a name to its limit, ending in "…",
// without splitting an emoji sequence. Every other type carries a fact (an
// amount, a time, an order number) that a cut would falsify, so a value
// that does not fit is refused before sending.
func FitKeyword(key, value string) (string, error) {
	value = strings.TrimSpace(value)
	switch KeywordType(key) {
	case KwThing:
		value = Ellipsize(value, 20)
	case KwName:
		if reHanName.MatchString(value) {
			value = Ellipsize(value, 10)
		} else if reLatinName.MatchString(value) {
			value = Ellipsize(strings.TrimRight(value, " "), 20)
		}
	}
	return value, CheckKeyword(key, value)
}

// Ellipsize cuts s to at most n runes, the last being "…", when it is
// longer. It never leaves half of an emoji sequence (a zero-width joiner,
// a variation selector, a skin tone or a lone flag letter at the cut).
func Ellipsize(s string, n int) string {
	runes := []rune(s)
	if len(runes) <= n {
		return s
	}
	cut := n - 1
	for cut > 0 && (joins(runes[cut]) || runes[cut-1] == 0x200D) {
		cut--
	}
	// A flag is two regional indicators: never keep an odd one at the end.
	ri := 0
	for i := cut - 1; i >= 0 && isRegional(runes[i]); i-- {
		ri++
	}
	if ri%2 == 1 {
		cut--
	}
	// Drop a trailing joiner and anything that only modifies what follows.
	for cut > 0 && runes[cut-1] == 0x200D {
		cut--
	}
	return strings.TrimRight(string(runes[:cut]), " ") + "…"
}

// joins reports whether r belongs to the character before it: a zero-width
// joiner, a variation selector, a skin-tone modifier, a combining mark or
// an emoji tag.
func joins(r rune) bool {
	return r == 0x200D || r >= 0xFE00 && r <= 0xFE0F || r >= 0x1F3FB && r <= 0x1F3FF ||
		r >= 0xE0020 && r <= 0xE007F || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r)
}

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }
