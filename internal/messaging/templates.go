package messaging

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kaidian/kaidian/internal/order"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/wechat"
)

// Template maps a message kind to a shop's subscription template.
type Template struct {
	Kind       string            `json:"kind" enum:"order_paid,order_shipped,order_refunded,membership_expiring,level_falling,points_expiring"`
	TemplateID string            `json:"template_id" doc:"the template's id in the mini program's 「我的模板」"`
	Page       string            `json:"page" doc:"the mini-program page a tap opens; {order_id} or {ref_id} (what the message is about) is replaced"`
	Fields     map[string]string `json:"fields" doc:"keyword key (thing1, amount2, …) → source, by kind: order kinds order.no, order.title, order.amount, order.paid_at, order.shipped_at, order.created_at, order.carrier, order.tracking_no, order.quantity, order.receiver, order.status, order.refunded; membership_expiring membership.title, membership.ends_at, membership.days_left; level_falling level.name, level.new_name, level.falls_at; points_expiring points.amount, points.expires_at; or text:<fixed text>"`
	Enabled    bool              `json:"enabled"`
	UpdatedAt  *time.Time        `json:"updated_at" doc:"null when the kind has no template yet"`
}

// TemplateInput sets a kind's template.
type TemplateInput struct {
	Kind       string            `json:"kind" enum:"order_paid,order_shipped,order_refunded,membership_expiring,level_falling,points_expiring"`
	TemplateID string            `json:"template_id"`
	Page       string            `json:"page"`
	Fields     map[string]string `json:"fields"`
	Enabled    *bool             `json:"enabled" doc:"default true"`
}

// PreviewInput renders a template before it is saved: with the order given
// (one of the shop's) or a sample order.
type PreviewInput struct {
	TemplateInput
	OrderID int64 `json:"order_id" doc:"optional, order kinds: render with this order instead of a sample"`
}

// Preview is a rendered template and what WeChat would refuse in it.
type Preview struct {
	Data     map[string]string `json:"data" doc:"each keyword's value as it would be sent (free text cut to fit)"`
	Problems []Problem         `json:"problems" doc:"keywords WeChat would refuse (47003); empty when the template can be sent"`
	Title    string            `json:"title" doc:"the inbox title for this kind"`
	Body     string            `json:"body" doc:"the inbox text for this order"`
}

// Problem is one keyword that cannot be sent.
type Problem struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

var statusPhrases = map[order.Status]string{
	"pending_payment": "待付款", "paid": "已支付", "shipped": "已发货", "completed": "已完成",
	"cancelled": "已取消", "refunded": "已退款",
}

var shanghai = time.FixedZone("CST", 8*3600) // Asia/Shanghai: no daylight saving since 1991

func chinaTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(shanghai).Format("2006-01-02 15:04")
}

func paid(o order.Order) int64 {
	if o.PaidAmount > 0 {
		return o.PaidAmount
	}
	return o.TotalAmount
}

// yuan writes fen as WeChat's amount: ¥12.50.
func yuan(fen int64) string { return fmt.Sprintf("¥%d.%02d", fen/100, fen%100) }

func quantity(o order.Order) int64 {
	var n int64
	for _, l := range o.Lines {
		n += l.Quantity
	}
	return n
}

// orderTitle is the first line's title, "等N件" when there are more.
func orderTitle(o order.Order) string {
	if len(o.Lines) == 0 {
		return "订单 " + o.OrderNo
	}
	t := strings.TrimSpace(o.Lines[0].Title)
	if len(o.Lines) > 1 {
		t += " 等" + strconv.FormatInt(quantity(o), 10) + "件"
	}
	return t
}

// sampleOrder fills a preview when no order is named.
func sampleOrder(now time.Time) order.Order {
	paidAt, shippedAt := now.Add(-time.Hour), now
	return order.Order{ID: 1, OrderNo: "KD2026120700001", Status: "paid", TotalAmount: 12850, PaidAmount: 12850,
		PaidAt: &paidAt, ShippedAt: &shippedAt, CreatedAt: now.Add(-2 * time.Hour), Carrier: "SF", TrackingNo: "SF1234567890123",
		Address: order.Address{Name: "张三"},
		Lines:   []order.Line{{Title: "真丝连衣裙 夏季新款 法式复古碎花长裙 收腰显瘦", Quantity: 1}, {Title: "丝巾", Quantity: 2}}}
}

const (
	maxFields     = 10
	maxTemplateID = 128
	maxPage       = 256
	maxText       = 64
)

// validate checks a template input; errors are 400s naming the field.
func (in TemplateInput) validate() error {
	v := errs.Validator{}
	spec, known := kindSpecs[in.Kind]
	v.Check(known, "kind", "kind must be one of "+strings.Join(Kinds, ", "))
	v.Check(in.TemplateID != "" && len(in.TemplateID) <= maxTemplateID && !strings.ContainsAny(in.TemplateID, " \t\r\n"),
		"template_id", "template_id is required: the id WeChat shows in 「我的模板」, without spaces")
	v.Check(len(in.Page) <= maxPage && !strings.HasPrefix(in.Page, "/") && !strings.Contains(in.Page, "://"),
		"page", "page is a mini-program path such as pages/order/detail?id={order_id}")
	v.Check(len(in.Fields) > 0 && len(in.Fields) <= maxFields, "fields", fmt.Sprintf("between 1 and %d keywords", maxFields))
	for key, src := range in.Fields {
		v.Check(wechat.KeywordType(key) != "", "fields."+key, "not a keyword key (thing1, amount2, time3, …)")
		v.Check(!known || validSource(spec, src), "fields."+key, "unknown source for "+in.Kind+": use "+strings.Join(spec.vars, ", ")+" or text:<fixed text>")
	}
	return v.Err()
}

func validSource(spec kindSpec, src string) bool {
	if text, ok := strings.CutPrefix(src, "text:"); ok {
		return text != "" && utf8.RuneCountInString(text) <= maxText
	}
	return spec.allows(src)
}

// render fills a template's keywords from the message's values; problems
// list what WeChat would refuse.
func render(fields map[string]string, vars map[string]string) (map[string]string, []Problem) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	data := map[string]string{}
	problems := []Problem{}
	for _, k := range keys {
		raw := ""
		if text, ok := strings.CutPrefix(fields[k], "text:"); ok {
			raw = text
		} else {
			raw = vars[fields[k]]
		}
		v, err := wechat.FitKeyword(k, raw)
		data[k] = v
		if err != nil {
			problems = append(problems, Problem{Key: k, Reason: err.(*wechat.KeywordError).Reason})
		}
	}
	return data, problems
}

// pagePath fills {order_id} (or {ref_id}: what the message is about) in a
// template's page.
func pagePath(page string, refID int64) string {
	id := strconv.FormatInt(refID, 10)
	return strings.ReplaceAll(strings.ReplaceAll(page, "{order_id}", id), "{ref_id}", id)
}

// SetTemplate creates or replaces a kind's template.
func (s *Service) SetTemplate(ctx context.Context, shopID int64, in TemplateInput) (Template, error) {
	if err := in.validate(); err != nil {
		return Template{}, err
	}
	enabled := in.Enabled == nil || *in.Enabled
	fields, _ := json.Marshal(in.Fields)
	now := s.nowMs()
	_, err := s.db.Exec(ctx, `INSERT INTO msg_templates (shop_id, kind, template_id, page, fields, enabled, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, kind) DO UPDATE SET template_id = excluded.template_id,
		page = excluded.page, fields = excluded.fields, enabled = excluded.enabled, updated_at = excluded.updated_at`,
		shopID, in.Kind, in.TemplateID, in.Page, string(fields), enabled, now)
	if err != nil {
		return Template{}, errs.Wrap("set template", err)
	}
	return s.template(ctx, s.db, shopID, in.Kind)
}

// Templates lists every kind with its template (a kind without one has an
// empty template_id and a null updated_at).
func (s *Service) Templates(ctx context.Context, shopID int64) ([]Template, error) {
	out := make([]Template, 0, len(Kinds))
	for _, k := range Kinds {
		t, err := s.template(ctx, s.db, shopID, k)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// template reads one kind's template (empty when none is set).
func (s *Service) template(ctx context.Context, q db.Querier, shopID int64, kind string) (Template, error) {
	t := Template{Kind: kind, Fields: map[string]string{}}
	var fields string
	var updated int64
	err := q.QueryRow(ctx, `SELECT template_id, page, fields, enabled, updated_at FROM msg_templates
		WHERE shop_id = ? AND kind = ?`, shopID, kind).Scan(&t.TemplateID, &t.Page, &fields, &t.Enabled, &updated)
	if db.IsNoRows(err) {
		return t, nil
	}
	if err != nil {
		return Template{}, errs.Wrap("template", err)
	}
	_ = json.Unmarshal([]byte(fields), &t.Fields)
	t.UpdatedAt = timeOrNil(&updated)
	return t, nil
}

// PreviewTemplate renders in with an order of the shop or a sample.
func (s *Service) PreviewTemplate(ctx context.Context, shopID int64, in PreviewInput) (Preview, error) {
	if err := in.validate(); err != nil {
		return Preview{}, err
	}
	vars := kindSpecs[in.Kind].sample
	if kindSpecs[in.Kind].order {
		o := sampleOrder(s.now())
		if in.OrderID != 0 {
			var err error
			if o, err = s.orders.Get(ctx, shopID, in.OrderID, 0); err != nil {
				return Preview{}, err
			}
		}
		vars = orderVars(o)
	}
	data, problems := render(in.Fields, vars)
	title, body := inboxText(in.Kind, vars)
	return Preview{Data: data, Problems: problems, Title: title, Body: body}, nil
}
