package sheets

import (
	"archive/zip"
	"compress/flate"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kaidian/kaidian/internal/platform/errs"
)

// MIME is the media type of an XLSX workbook.
const MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// china is the time zone of every time written (Asia/Shanghai has no DST).
var china = time.FixedZone("CST", 8*3600)

// kind is how a column's cells are written.
type kind int

const (
	text  kind = iota // a string, escaped against formula injection
	money             // fen written as yuan, a number shown with 2 decimals
	count             // a whole number
	when              // a time (Unix ms), China time, as text; 0 = empty
)

// column is one column of an export: its headers and its kind.
type column struct {
	zh, en string
	kind   kind
	width  float64
}

// Sheet writes one export's rows, as they come, to an XLSX workbook with
// excelize's StreamWriter: rows are not kept in memory (past its buffer
// the stream writer spills to a temporary file).
type Sheet struct {
	f     *excelize.File
	sw    *excelize.StreamWriter
	cols  []column
	money int // the style id of money cells
	row   int // rows written, the header included
	cells []any
}

// newSheet starts a workbook with one sheet named name and the header row
// in the language asked for.
func newSheet(name string, cols []column, lang string) (*Sheet, error) {
	f := excelize.NewFile()
	f.SetZipWriter(fastZip)
	if err := f.SetSheetName("Sheet1", name); err != nil {
		f.Close()
		return nil, errs.Wrap("xlsx sheet", err)
	}
	// Format 2 is Excel's built-in "0.00": the value stays a number (sums
	// work) and shows exactly two decimals.
	moneyStyle, err := f.NewStyle(&excelize.Style{NumFmt: 2})
	if err != nil {
		f.Close()
		return nil, errs.Wrap("xlsx style", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		f.Close()
		return nil, errs.Wrap("xlsx style", err)
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		f.Close()
		return nil, errs.Wrap("xlsx stream", err)
	}
	s := &Sheet{f: f, sw: sw, cols: cols, money: moneyStyle, cells: make([]any, len(cols))}
	for i, c := range cols {
		w := c.width
		if w == 0 {
			w = 14
		}
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			s.Close()
			return nil, errs.Wrap("xlsx width", err)
		}
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		h := c.zh
		if lang == "en" {
			h = c.en
		}
		header[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", header, excelize.RowOpts{}); err != nil {
		s.Close()
		return nil, errs.Wrap("xlsx header", err)
	}
	s.row = 1
	return s, nil
}

// add writes one row; values follow the columns: string for text, int64
// for money (fen) and when (Unix ms), an integer for count.
func (s *Sheet) add(values ...any) error {
	for i, c := range s.cols {
		s.cells[i] = s.cell(c.kind, values[i])
	}
	s.row++
	cell, _ := excelize.CoordinatesToCellName(1, s.row)
	return errs.Wrap("xlsx row", s.sw.SetRow(cell, s.cells))
}

func (s *Sheet) cell(k kind, v any) any {
	switch k {
	case money:
		return excelize.Cell{StyleID: s.money, Value: yuan(v.(int64))}
	case count:
		return v
	case when:
		ms := v.(int64)
		if ms == 0 {
			return nil
		}
		return time.UnixMilli(ms).In(china).Format(time.DateTime)
	}
	return Escape(v.(string))
}

// fastZip deflates at the fastest level: an export's XML is repetitive, so
// the file is barely larger, and compressing it was a fifth of an export's
// CPU at the default level.
func fastZip(w io.Writer) excelize.ZipWriter {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	return zw
}

// yuan is fen as a number of yuan. float64(fen)/100 is the double nearest
// the exact decimal (fen is exact below 2^53 and IEEE division rounds
// correctly), and excelize writes a float in its shortest form that reads
// back as the same double: for any amount below 10^15 fen that is exactly
// the decimal fen/100 ("99.9" for 9990). TestMoneyIsExact checks it.
func yuan(fen int64) float64 { return float64(fen) / 100 }

// Escape defuses formula injection: a text starting with = + - @, a tab or
// a carriage return is what a spreadsheet (or a CSV made from this sheet)
// may run as a formula, so it gets a leading apostrophe and stays text.
func Escape(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Finish ends the sheet and writes the workbook to w.
func (s *Sheet) Finish(w io.Writer) error {
	defer s.Close()
	if err := s.sw.Flush(); err != nil {
		return errs.Wrap("xlsx flush", err)
	}
	_, err := s.f.WriteTo(w)
	return err
}

// Close removes the workbook's temporary files.
func (s *Sheet) Close() { _ = s.f.Close() }

// Disposition is the Content-Disposition of a download named name (UTF-8,
// as filename*, with an ASCII fallback for old clients).
func Disposition(name, ascii string) string {
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}

// dated is a file name with the day (China time): 订单-20261206.xlsx.
func dated(base string, now time.Time) string {
	return base + "-" + now.In(china).Format("20060102") + ".xlsx"
}

// itoa is strconv.FormatInt for ids in text cells.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
