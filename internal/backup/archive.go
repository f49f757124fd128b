package backup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Inside the sealed stream, the archive is gzip-compressed JSON lines:
//
//	{"kind":"head",...}                  engine, schema version, time
//	{"kind":"table","table":T,"columns":[...]}
//	[v1, v2, ...]                        one line per row
//	{"kind":"table_end","table":T,"rows":N,"sum":S}
//	{"kind":"blob","key":K,"size":N,...} then its bytes as JSON strings of base64
//	{"kind":"end",...}                   totals; a stream without it is cut short
//
// A row's values keep their type: integers and booleans as JSON numbers
// and booleans, text as strings ({"x": base64} for text that is not
// UTF-8), {"f": n} a floating-point number, {"b": base64} bytes, {"t":
// RFC 3339} a time. S is the sum, lane by lane modulo 2^64, of the SHA-256
// of every row's line: it does not depend on the order rows are read in,
// so a restored table can be summed again and compared.

// Record is one control line of an archive.
type Record struct {
	Kind        string    `json:"kind"`
	Format      int       `json:"format,omitempty"`
	Engine      string    `json:"engine,omitempty"`
	Schema      int       `json:"schema,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	App         string    `json:"app,omitempty"`
	Table       string    `json:"table,omitempty"`
	Columns     []string  `json:"columns,omitempty"`
	Rows        int64     `json:"rows,omitempty"`
	Sum         string    `json:"sum,omitempty"`
	Key         string    `json:"key,omitempty"`
	Size        int64     `json:"size,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	SHA256      string    `json:"sha256,omitempty"`
	Tables      int       `json:"tables,omitempty"`
	Blobs       int64     `json:"blobs,omitempty"`
	BlobBytes   int64     `json:"blob_bytes,omitempty"`
}

// tableSum is the order-independent checksum of a table's rows.
type tableSum struct {
	lanes [4]uint64
	rows  int64
}

func (s *tableSum) add(line []byte) {
	h := sha256.Sum256(line)
	for i := range s.lanes {
		s.lanes[i] += binary.BigEndian.Uint64(h[i*8:])
	}
	s.rows++
}

func (s *tableSum) String() string {
	var b [32]byte
	for i, l := range s.lanes {
		binary.BigEndian.PutUint64(b[i*8:], l)
	}
	return hex.EncodeToString(b[:])
}

// appendRow encodes one row's values as a JSON array line (no newline).
func appendRow(dst []byte, vals []any) ([]byte, error) {
	dst = append(dst, '[')
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendValue(dst, v); err != nil {
			return nil, err
		}
	}
	return append(dst, ']'), nil
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(appendString(append(dst, `{"fs":`...), strconv.FormatFloat(x, 'g', -1, 64)), '}'), nil
		}
		return append(strconv.AppendFloat(append(dst, `{"f":`...), x, 'g', -1, 64), '}'), nil
	case string:
		if !utf8.ValidString(x) {
			return append(appendString(append(dst, `{"x":`...), base64.StdEncoding.EncodeToString([]byte(x))), '}'), nil
		}
		return appendString(dst, x), nil
	case []byte:
		return append(appendString(append(dst, `{"b":`...), base64.StdEncoding.EncodeToString(x)), '}'), nil
	case time.Time:
		return append(appendString(append(dst, `{"t":`...), x.UTC().Format(time.RFC3339Nano)), '}'), nil
	default:
		return nil, fmt.Errorf("a value of type %T cannot be backed up", v)
	}
}

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, everything else (valid UTF-8) as it is.
func appendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// parseRow decodes a row line back into values of the types appendValue
// encodes.
func parseRow(line []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var raw []any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("a row does not parse: %w", err)
	}
	for i, v := range raw {
		var err error
		if raw[i], err = decodeValue(v); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

func decodeValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case json.Number:
		return strconv.ParseInt(string(x), 10, 64)
	case map[string]any:
		for tag, inner := range x {
			return decodeTagged(tag, inner)
		}
	}
	return nil, fmt.Errorf("a value %v does not parse", v)
}

func decodeTagged(tag string, inner any) (any, error) {
	if n, ok := inner.(json.Number); ok && tag == "f" {
		return strconv.ParseFloat(string(n), 64)
	}
	s, ok := inner.(string)
	if !ok {
		return nil, fmt.Errorf("a tagged value %q does not parse", tag)
	}
	switch tag {
	case "fs":
		return strconv.ParseFloat(s, 64)
	case "x":
		b, err := base64.StdEncoding.DecodeString(s)
		return string(b), err
	case "b":
		return base64.StdEncoding.DecodeString(s)
	case "t":
		return time.Parse(time.RFC3339Nano, s)
	}
	return nil, fmt.Errorf("unknown value tag %q", tag)
}

// lineWriter writes archive lines.
type lineWriter struct {
	w     *bufio.Writer
	pacer *pacer
}

func (l *lineWriter) record(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return l.line(b)
}

func (l *lineWriter) line(b []byte) error {
	l.pacer.tick()
	if _, err := l.w.Write(b); err != nil {
		return err
	}
	return l.w.WriteByte('\n')
}

// pacer keeps a backup to a share of one core: after every 1,024 lines
// it sleeps in proportion to the time they took, so a backup running
// beside a busy shop leaves it most of the CPU (and takes longer).
type pacer struct {
	share float64
	n     int
	since time.Time
	sleep func(time.Duration)
}

func newPacer(share float64, sleep func(time.Duration)) *pacer {
	if share <= 0 || share >= 1 {
		return nil
	}
	if sleep == nil {
		sleep = time.Sleep
	}
	return &pacer{share: share, since: time.Now(), sleep: sleep}
}

func (p *pacer) tick() {
	if p == nil {
		return
	}
	if p.n++; p.n%1024 != 0 {
		return
	}
	busy := time.Since(p.since)
	p.sleep(time.Duration(float64(busy) * (1/p.share - 1)))
	p.since = time.Now()
}

// lineReader reads archive lines of any length.
type lineReader struct {
	r    *bufio.Reader
	line []byte
	n    int64
}

var errNoLine = errors.New("no more lines")

func (l *lineReader) next() ([]byte, error) {
	l.line = l.line[:0]
	for {
		part, err := l.r.ReadSlice('\n')
		l.line = append(l.line, part...)
		switch {
		case err == nil:
			l.n++
			return l.line[:len(l.line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case len(l.line) == 0:
			return nil, errNoLine
		default:
			return nil, err
		}
	}
}

func (l *lineReader) record() (Record, error) {
	line, err := l.next()
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(line, &r); err != nil || r.Kind == "" {
		return Record{}, fmt.Errorf("line %d is not a record", l.n)
	}
	return r, nil
}
