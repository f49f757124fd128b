// Package sandbox is a fake 快递100 for tests and the demo: the signed
// query and subscription endpoints, and a scripted route per waybill
// (picked up → in transit → out for delivery → signed) whose every step is
// pushed, signed with the subscriber's salt, to its callback URL, and
// pushed again until the callback acknowledges it.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kaidian/kaidian/internal/platform/kuaidi100"
)

// The demo's and tests' credentials.
const (
	Customer = "SANDBOXCUSTOMER"
	Key      = "sandbox-key"
)

var script = []struct {
	state int
	text  string
}{
	{kuaidi100.PickedUp, "【上海市】快件已由【上海浦东营业部】揽收"},
	{kuaidi100.InTransit, "【上海市】快件已发往【杭州转运中心】"},
	{kuaidi100.InTransit, "【杭州市】快件已到达【杭州转运中心】"},
	{kuaidi100.Delivering, "【杭州市】快件交给张师傅，正在派送途中（联系电话：138****0000）"},
	{kuaidi100.Signed, "【杭州市】快件已签收，签收人：本人，感谢使用"},
}

type waybill struct {
	company, number string
	callback, salt  string
	events          []kuaidi100.Event // newest first
	started         time.Time
	unacked         bool // the last push was not acknowledged
}

// Sandbox is the fake.
type Sandbox struct {
	mu       sync.Mutex
	waybills map[string]*waybill // by company + number
	sent     []url.Values        // every push sent, in order
	http     *http.Client
	now      func() time.Time
}

// New returns an empty sandbox.
func New() *Sandbox {
	return &Sandbox{waybills: map[string]*waybill{}, http: &http.Client{Timeout: 5 * time.Second}, now: time.Now}
}

func key(company, number string) string { return company + "/" + number }

// ServeHTTP serves /poll/query.do and /poll under any prefix.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "POST a form", http.StatusBadRequest)
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/poll/query.do"):
		s.query(w, r.PostForm)
	case strings.HasSuffix(r.URL.Path, "/poll"):
		s.subscribe(w, r.PostForm)
	default:
		http.NotFound(w, r)
	}
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	json.NewEncoder(w).Encode(v)
}

func refuse(w http.ResponseWriter, code, msg string) {
	answer(w, map[string]any{"result": false, "returnCode": code, "message": msg})
}

func (s *Sandbox) query(w http.ResponseWriter, form url.Values) {
	param := form.Get("param")
	if form.Get("customer") != Customer || form.Get("sign") != kuaidi100.Sign(param, Key, Customer) {
		refuse(w, "601", "签名错误或 customer 不正确")
		return
	}
	var p kuaidi100.Waybill
	if json.Unmarshal([]byte(param), &p) != nil || p.Company == "" || p.Number == "" {
		refuse(w, "400", "参数错误")
		return
	}
	s.mu.Lock()
	wb := s.waybills[key(p.Company, p.Number)]
	var body map[string]any
	if wb != nil {
		body = lastResult(wb)
	}
	s.mu.Unlock()
	if body == nil {
		refuse(w, "500", "查询无结果，请隔段时间再查")
		return
	}
	body["message"], body["status"] = "ok", "200"
	answer(w, body)
}

func (s *Sandbox) subscribe(w http.ResponseWriter, form url.Values) {
	var p struct {
		Company    string `json:"company"`
		Number     string `json:"number"`
		Key        string `json:"key"`
		Parameters struct {
			CallbackURL string `json:"callbackurl"`
			Salt        string `json:"salt"`
		} `json:"parameters"`
	}
	if form.Get("schema") != "json" || json.Unmarshal([]byte(form.Get("param")), &p) != nil || p.Company == "" || p.Number == "" {
		refuse(w, "700", "参数错误")
		return
	}
	if p.Key != Key {
		refuse(w, "600", "key 不正确")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(p.Company, p.Number)
	if s.waybills[k] != nil {
		refuse(w, "501", "重复订阅")
		return
	}
	s.waybills[k] = &waybill{company: p.Company, number: p.Number, callback: p.Parameters.CallbackURL,
		salt: p.Parameters.Salt, started: s.now()}
	answer(w, map[string]any{"result": true, "returnCode": "200", "message": "提交成功"})
}

// lastResult is 快递100's view of a waybill (caller holds s.mu).
func lastResult(wb *waybill) map[string]any {
	state := "0"
	data := []map[string]string{}
	for i, e := range wb.events {
		if i == 0 {
			state = fmt.Sprint(script[len(wb.events)-1].state)
		}
		t := kuaidi100.FormatTime(e.Time)
		data = append(data, map[string]string{"time": t, "ftime": t, "context": e.Context})
	}
	return map[string]any{"state": state, "com": wb.company, "nu": wb.number, "ischeck": boolFlag(state == "3"), "data": data}
}

func boolFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ErrUnknown is a waybill nobody subscribed to.
var ErrUnknown = errors.New("sandbox: no such subscribed waybill")

// Advance adds the waybill's next scripted event (if any is left) and
// pushes its route to the subscriber, as 快递100 does on each new event.
// An unacknowledged push is an error and is repeated by the next Advance
// or Tick.
func (s *Sandbox) Advance(ctx context.Context, company, number string) error {
	return s.step(ctx, company, number, true)
}

// step pushes the waybill's route, first adding its next event if add.
func (s *Sandbox) step(ctx context.Context, company, number string, add bool) error {
	s.mu.Lock()
	wb := s.waybills[key(company, number)]
	if wb == nil {
		s.mu.Unlock()
		return ErrUnknown
	}
	if n := len(wb.events); add && n < len(script) {
		wb.events = append([]kuaidi100.Event{{Time: s.now().UTC().Truncate(time.Second), Context: script[n].text}}, wb.events...)
	}
	status := "polling"
	if len(wb.events) == len(script) {
		status = "shutdown"
	}
	param, _ := json.Marshal(map[string]any{"status": status, "billstatus": "got", "message": "", "lastResult": lastResult(wb)})
	callback, salt := wb.callback, wb.salt
	wb.unacked = true
	s.mu.Unlock()
	if err := s.push(ctx, callback, string(param), salt); err != nil {
		return err
	}
	s.mu.Lock()
	wb.unacked = false
	s.mu.Unlock()
	return nil
}

func (s *Sandbox) push(ctx context.Context, callback, param, salt string) error {
	form := url.Values{"param": {param}, "sign": {kuaidi100.Sign(param, salt)}}
	s.mu.Lock()
	s.sent = append(s.sent, form)
	s.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callback, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var ack struct {
		Result bool `json:"result"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ack) != nil || !ack.Result {
		return fmt.Errorf("sandbox: push not acknowledged: HTTP %d %s", resp.StatusCode, body)
	}
	return nil
}

// Sent returns the pushes sent so far (a test may send one again).
func (s *Sandbox) Sent() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.sent...)
}

// Lose adds the waybill's next event without pushing it, as when a push is
// lost for good: only a query finds it.
func (s *Sandbox) Lose(company, number string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	wb := s.waybills[key(company, number)]
	if wb == nil {
		return ErrUnknown
	}
	if n := len(wb.events); n < len(script) {
		wb.events = append([]kuaidi100.Event{{Time: s.now().UTC().Truncate(time.Second), Context: script[n].text}}, wb.events...)
	}
	return nil
}

// Tick advances every waybill whose next step is due (one step per every
// step of time since it was subscribed) and repeats unacknowledged pushes:
// the demo runs it every second.
func (s *Sandbox) Tick(ctx context.Context, step time.Duration) {
	type due struct {
		company, number string
		add             bool
	}
	var list []due
	s.mu.Lock()
	for _, wb := range s.waybills {
		want := min(int(s.now().Sub(wb.started)/step)+1, len(script))
		if add := len(wb.events) < want; add || wb.unacked {
			list = append(list, due{wb.company, wb.number, add})
		}
	}
	s.mu.Unlock()
	for _, d := range list {
		_ = s.step(ctx, d.company, d.number, d.add) // an unacknowledged push is repeated on the next tick
	}
}

// Run calls Tick every second until ctx ends.
func (s *Sandbox) Run(ctx context.Context, step time.Duration) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Tick(ctx, step)
		}
	}
}
