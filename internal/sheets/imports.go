package sheets

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/kaidian/kaidian/internal/catalog"
	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/errs"
)

// Import limits. An upload is read whole (it is small); what it unzips to
// is capped before anything is unzipped (zip bombs), and rows are counted
// as they stream, so a sheet of a million rows is refused at row 10,001.
const (
	MaxUploadBytes = 8 << 20  // the XLSX file itself
	MaxUnzipBytes  = 64 << 20 // all its parts, uncompressed
	MaxRows        = 10_000   // data rows below the header
	maxColumns     = 64       // cells a row may have
)

// Table is the first sheet of an upload: its header row and its data rows
// (blank rows skipped), each with its row number.
type Table struct {
	Header []string
	Rows   []catalog.Record
}

var (
	errNotXLSX   = errs.E(errs.Invalid, "not_xlsx", "the file is not an XLSX workbook (save it from Excel or WPS as .xlsx)")
	errBroken    = errs.E(errs.Invalid, "malformed_xlsx", "the XLSX file is damaged and cannot be read")
	errUnzipSize = errs.E(errs.TooLarge, "xlsx_too_large", fmt.Sprintf("the workbook unpacks to more than %d MiB; split it", MaxUnzipBytes>>20))
	errEmpty     = errs.E(errs.Invalid, "empty_sheet", "the first sheet needs a header row and at least one row below it")
	errTooMany   = errs.E(errs.TooLarge, "too_many_rows", fmt.Sprintf("at most %d rows per import; split the sheet", MaxRows))
)

// ReadTable reads the first sheet of an XLSX upload. It refuses what is
// not an XLSX, what unpacks too big, more than MaxRows rows (counted as
// they stream), rows wider than 64 cells, and any cell holding a formula
// (named by row and column): an import takes values typed in, never what
// a formula computed.
func ReadTable(body io.Reader) (Table, error) {
	raw, err := io.ReadAll(io.LimitReader(body, MaxUploadBytes+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(raw) > MaxUploadBytes {
		return Table{}, errs.E(errs.TooLarge, "body_too_large", fmt.Sprintf("the file is over %d MiB; split it", MaxUploadBytes>>20))
	}
	if err != nil {
		return Table{}, errs.Wrap("read upload", err)
	}
	if !bytes.HasPrefix(raw, []byte("PK\x03\x04")) {
		return Table{}, errNotXLSX
	}
	f, err := excelize.OpenReader(bytes.NewReader(raw), excelize.Options{
		UnzipSizeLimit: MaxUnzipBytes, UnzipXMLSizeLimit: 16 << 20})
	if err != nil {
		if f != nil {
			_ = f.Close() // temporary files of parts already unzipped
		}
		return Table{}, openError(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return Table{}, errBroken
	}
	t, err := streamRows(f, sheets[0])
	if err != nil {
		return Table{}, err
	}
	if err := refuseFormulas(raw, t); err != nil {
		return Table{}, err
	}
	return t, nil
}

// openError maps excelize's refusal to open a file.
func openError(err error) error {
	switch {
	case strings.Contains(err.Error(), "unzip size exceeds"): // excelize's UnzipSizeLimit (its error has no type)
		return errUnzipSize
	case errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) || errors.Is(err, zip.ErrChecksum):
		return errNotXLSX
	case errors.Is(err, excelize.ErrWorkbookFileFormat):
		return errNotXLSX
	}
	return errBroken
}

// streamRows reads the sheet's rows with excelize's streaming iterator,
// stopping as soon as there are too many.
func streamRows(f *excelize.File, name string) (Table, error) {
	rows, err := f.Rows(name)
	if err != nil {
		return Table{}, errBroken
	}
	defer rows.Close()
	var t Table
	line := 0
	for rows.Next() { // one call per row number, blank rows included
		line++
		if line > MaxRows+1 {
			return Table{}, errTooMany
		}
		cells, err := rows.Columns()
		if err != nil {
			return Table{}, errBroken
		}
		if len(cells) > maxColumns {
			return Table{}, errs.Field(fmt.Sprintf("line %d", line), "too_many_columns", fmt.Sprintf("a row has at most %d cells", maxColumns))
		}
		if blank(cells) {
			continue
		}
		if t.Header == nil {
			if line != 1 {
				return Table{}, errs.Field("header", "header_not_first", "the header must be the first row of the sheet")
			}
			t.Header = trimAll(cells)
			continue
		}
		t.Rows = append(t.Rows, catalog.Record{Line: line, Cells: trimAll(cells)})
	}
	if rows.Error() != nil {
		if errors.Is(rows.Error(), excelize.ErrMaxRows) {
			return Table{}, errTooMany
		}
		return Table{}, errBroken
	}
	if len(t.Rows) == 0 {
		return Table{}, errEmpty
	}
	return t, nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func trimAll(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.TrimSpace(c)
	}
	return out
}

// refuseFormulas streams the first sheet's XML once more and fails on any
// cell with a formula (<f>), naming every one by row and cell. excelize's
// row iterator gives a formula's cached value without saying it is one,
// and its GetCellFormula would load the whole sheet into memory.
func refuseFormulas(raw []byte, t Table) error {
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return errNotXLSX
	}
	part, err := firstSheetPart(zr)
	if err != nil {
		return err
	}
	rc, err := part.Open()
	if err != nil {
		return errBroken
	}
	defer rc.Close()
	found, err := formulaCells(io.LimitReader(rc, MaxUnzipBytes))
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return nil
	}
	v := errs.Validator{}
	for _, c := range found {
		v.Check(false, fmt.Sprintf("line %d", c.row), "cell "+c.ref+" holds a formula: type its value instead")
	}
	e := errs.As(v.Err())
	e.Code, e.Message = "formula_in_cell", fmt.Sprintf("%d cells hold formulas (first: %s, row %d); an import takes values only", len(found), found[0].ref, found[0].row)
	return e
}

type formulaCell struct {
	row int
	ref string
}

// formulaCells lists the cells with a formula, in order.
func formulaCells(r io.Reader) ([]formulaCell, error) {
	dec := xml.NewDecoder(r)
	var out []formulaCell
	row, ref := 0, ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errBroken
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch el.Name.Local {
		case "row":
			row++
			if n, err := strconv.Atoi(attr(el, "r")); err == nil {
				row = n
			}
		case "c":
			ref = attr(el, "r")
		case "f":
			out = append(out, formulaCell{row: row, ref: ref})
			if len(out) >= 100 {
				return out, nil // enough to say so
			}
		}
	}
	return out, nil
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// firstSheetPart finds the first sheet's part through the workbook and its
// relationships, as excelize does.
func firstSheetPart(zr *zip.Reader) (*zip.File, error) {
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[strings.ToLower(strings.TrimPrefix(f.Name, "/"))] = f
	}
	var wb struct {
		Sheets []struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if decodePart(files["xl/workbook.xml"], &wb) != nil || decodePart(files["xl/_rels/workbook.xml.rels"], &rels) != nil || len(wb.Sheets) == 0 {
		return nil, errBroken
	}
	id := ""
	for _, a := range wb.Sheets[0].Attrs {
		if a.Name.Local == "id" {
			id = a.Value
		}
	}
	for _, r := range rels.Rels {
		if r.ID != id {
			continue
		}
		target := r.Target
		if !strings.HasPrefix(target, "/") {
			target = path.Join("xl", target)
		}
		if f := files[strings.ToLower(strings.TrimPrefix(target, "/"))]; f != nil {
			return f, nil
		}
	}
	return nil, errBroken
}

func decodePart(f *zip.File, v any) error {
	if f == nil {
		return errBroken
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(io.LimitReader(rc, 8<<20)).Decode(v)
}

// ---- imports ----

// productAliases are the product export's Chinese headers: a sheet saved
// from the export imports as it is.
var productAliases = aliases(productColumns)

func aliases(cols []column) map[string]string {
	out := map[string]string{}
	for _, c := range cols {
		out[c.zh] = c.en
	}
	return out
}

// ImportProducts creates products from an XLSX upload: the columns of
// the CSV import (or the product export's Chinese headers), all or
// nothing, every bad row reported with its number.
func (s *Service) ImportProducts(ctx context.Context, shopID int64, body io.Reader) (catalog.ImportResult, error) {
	t, err := ReadTable(body)
	if err != nil {
		return catalog.ImportResult{}, err
	}
	header := make([]string, len(t.Header))
	for i, h := range t.Header {
		if en, ok := productAliases[h]; ok {
			h = en
		}
		header[i] = h
	}
	return s.catalog.ImportRecords(ctx, shopID, header, t.Rows)
}

// ShipmentColumns are the bulk shipping sheet's columns (English or
// Chinese headers); delivery_type is optional (express by default).
var shipmentColumns = []column{
	{"订单号", "order_no", text, 24}, {"快递公司", "carrier", text, 10}, {"运单号", "tracking_no", text, 20},
	{"配送方式", "delivery_type", text, 10},
}

var shipmentAliases = aliases(shipmentColumns)

// ImportShipments ships the orders of an XLSX upload (order_no, carrier,
// tracking_no): every row checked first, then all shipped in one
// transaction, or none.
func (s *Service) ImportShipments(ctx context.Context, shopID int64, actor order.Actor, body io.Reader) (order.BulkShipResult, error) {
	t, err := ReadTable(body)
	if err != nil {
		return order.BulkShipResult{}, err
	}
	col, err := columnsOf(t.Header, shipmentAliases, "order_no", "carrier", "tracking_no")
	if err != nil {
		return order.BulkShipResult{}, err
	}
	rows := make([]order.BulkShipment, len(t.Rows))
	for i, r := range t.Rows {
		get := func(name string) string {
			if j, ok := col[name]; ok && j < len(r.Cells) {
				return r.Cells[j]
			}
			return ""
		}
		rows[i] = order.BulkShipment{Line: r.Line, OrderNo: get("order_no"), ShipInput: order.ShipInput{
			DeliveryType: order.DeliveryType(get("delivery_type")), Carrier: get("carrier"), TrackingNo: get("tracking_no")}}
	}
	return s.orders.ShipMany(ctx, shopID, actor, rows)
}

// columnsOf maps each known column name (English, or Chinese through
// aliases) to its index, and fails naming every required one missing.
func columnsOf(header []string, aliases map[string]string, required ...string) (map[string]int, error) {
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if en, ok := aliases[h]; ok {
			h = en
		}
		if _, dup := col[h]; !dup && h != "" {
			col[h] = i
		}
	}
	var missing []string
	for _, c := range required {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, &errs.Error{Kind: errs.Invalid, Code: "missing_columns",
			Message: "the header lacks the columns " + strings.Join(missing, ", "),
			Fields:  map[string]string{"header": "missing " + strings.Join(missing, ", ")}}
	}
	return col, nil
}
