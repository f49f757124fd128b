package smsgate

import (
	"context"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaidian/kaidian/internal/platform/auth"
	"github.com/kaidian/kaidian/internal/platform/db"
	"github.com/kaidian/kaidian/internal/platform/errs"
	"github.com/kaidian/kaidian/internal/platform/jobs"
	"github.com/kaidian/kaidian/internal/platform/ratelimit"
	"github.com/kaidian/kaidian/internal/platform/secretbox"
	"github.com/kaidian/kaidian/internal/platform/sms"
	"github.com/kaidian/kaidian/internal/platform/sms/sandbox"
)

// phones writes members.phone as member.Service.SetPhoneTx does.
type phones struct{}

func (phones) SetPhoneTx(ctx context.Context, tx *db.Tx, shopID, id int64, phone string) error {
	return db.ExpectOne(tx.Exec(ctx, `UPDATE members SET phone = ? WHERE id = ? AND shop_id = ?`, phone, id, shopID))
}

type fixture struct {
	s           *Service
	sb          *sandbox.Sandbox
	d           *db.DB
	clock       *time.Time
	shop, other int64
	a, b, oth   auth.Member
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	shop := func(appid string) int64 {
		var id int64
		if err := d.QueryRow(ctx, `INSERT INTO shops (name, appid, subject_type, created_at, updated_at) VALUES (?, ?, 'enterprise', 0, 0) RETURNING id`,
			"店"+appid, appid).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	member := func(shopID int64, openid string) auth.Member {
		var id int64
		if err := d.QueryRow(ctx, `INSERT INTO members (shop_id, openid, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
			shopID, openid).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return auth.Member{ID: id, ShopID: shopID}
	}
	box, err := secretbox.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	sb := sandbox.New()
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	f := &fixture{s: NewService(d, box, sb.Client(ts.URL), ratelimit.New(d), phones{}), sb: sb, d: d}
	now := time.Now()
	f.clock = &now
	f.s.SetClock(func() time.Time { return *f.clock })
	f.shop, f.other = shop("wx00000000000000a1"), shop("wx00000000000000b1")
	f.a, f.b, f.oth = member(f.shop, "a"), member(f.shop, "b"), member(f.other, "c")
	return f
}

func (f *fixture) configure(t *testing.T, shopID int64, provider string) {
	t.Helper()
	in := SettingsInput{Provider: provider, SignName: "开店小铺", Templates: map[string]string{KindPhoneCode: "SMS_0001", KindMarketing: "SMS_0009"}}
	if provider == sms.Aliyun {
		in.AccessKeyID, in.AccessSecret = sandbox.AliyunKeyID, sandbox.AliyunSecret
	} else {
		in.AccessKeyID, in.AccessSecret, in.SdkAppID = sandbox.TencentSecretID, sandbox.TencentSecretKey, sandbox.TencentSdkAppID
	}
	if _, err := f.s.PutSettings(context.Background(), shopID, in); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) advance(d time.Duration) { *f.clock = f.clock.Add(d) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if e := errs.As(err); err == nil || e.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func (f *fixture) phone(t *testing.T, m auth.Member) string {
	t.Helper()
	var p string
	if err := f.d.QueryRow(context.Background(), `SELECT phone FROM members WHERE id = ?`, m.ID).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSettingsAreSealedAndMasked(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		got, err := f.s.Settings(ctx, f.shop)
		if err != nil || got.Configured {
			t.Fatalf("unconfigured: %+v %v", got, err)
		}
		f.configure(t, f.shop, sms.Aliyun)
		got, _ = f.s.Settings(ctx, f.shop)
		if !got.Configured || got.AccessSecret != "****cret" || got.Templates[KindPhoneCode] != "SMS_0001" {
			t.Fatalf("settings %+v", got)
		}
		var stored string
		d.QueryRow(ctx, `SELECT access_secret FROM sms_settings WHERE shop_id = ?`, f.shop).Scan(&stored)
		if stored == sandbox.AliyunSecret || stored == "" {
			t.Fatalf("the secret is stored in the clear: %q", stored)
		}
		// An empty secret keeps the stored one.
		_, err = f.s.PutSettings(ctx, f.shop, SettingsInput{Provider: sms.Aliyun, AccessKeyID: sandbox.AliyunKeyID, SignName: "新签名",
			Templates: map[string]string{KindPhoneCode: "SMS_0002"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SendCode(ctx, f.a, "13800138000", "1.2.3.4"); err != nil {
			t.Fatal(err)
		}
		if sent := f.sb.Sent(); len(sent) != 1 || sent[0].SignName != "新签名" || sent[0].Template != "SMS_0002" {
			t.Fatalf("sent %+v", sent)
		}
		// The other shop has none.
		if got, _ := f.s.Settings(ctx, f.other); got.Configured {
			t.Fatal("settings leaked across shops")
		}
		for _, bad := range []SettingsInput{
			{Provider: "twilio", AccessKeyID: "abcd", AccessSecret: "x", SignName: "小铺"},
			{Provider: sms.Tencent, AccessKeyID: "abcd", AccessSecret: "x", SignName: "小铺"},
			{Provider: sms.Aliyun, AccessKeyID: "abcd", AccessSecret: "x", SignName: "【小铺】"},
			{Provider: sms.Aliyun, AccessKeyID: "abcd", AccessSecret: "x", SignName: "小铺", Templates: map[string]string{"nope": "SMS_1"}},
			{Provider: sms.Aliyun, AccessKeyID: "abcd", AccessSecret: "x", SignName: "小铺", Templates: map[string]string{KindPhoneCode: "bad code"}},
		} {
			_, err := f.s.PutSettings(ctx, f.other, bad)
			if e := errs.As(err); err == nil || e.Kind != errs.Invalid {
				t.Fatalf("%+v: %v", bad, err)
			}
		}
	})
}

func TestCodeBindsThePhoneOnBothProviders(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.configure(t, f.shop, sms.Aliyun)
		f.configure(t, f.other, sms.Tencent)
		for _, m := range []auth.Member{f.a, f.oth} {
			sent, err := f.s.SendCode(ctx, m, "13900139000", "1.2.3.4")
			if err != nil || sent.ExpiresIn != 300 || sent.ResendIn != 60 {
				t.Fatalf("send: %+v %v", sent, err)
			}
			code := f.sb.LastCode("13900139000")
			var stored string
			d.QueryRow(ctx, `SELECT code_hash FROM sms_codes WHERE shop_id = ? ORDER BY id DESC LIMIT 1`, m.ShopID).Scan(&stored)
			if len(code) != 6 || stored == code || len(stored) != 64 {
				t.Fatalf("code %q stored as %q", code, stored)
			}
			got, err := f.s.VerifyCode(ctx, m, "13900139000", code)
			if err != nil || got.Phone != "13900139000" || f.phone(t, m) != "13900139000" {
				t.Fatalf("verify: %+v %v", got, err)
			}
			// A used code is gone.
			_, err = f.s.VerifyCode(ctx, m, "13900139000", code)
			wantCode(t, err, "code_not_found")
		}
	})
}

func TestCodeLimits(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.configure(t, f.shop, sms.Aliyun)
		_, err := f.s.SendCode(ctx, f.a, "12345678901", "1.2.3.4")
		wantCode(t, err, "invalid_phone")
		if _, err := f.s.SendCode(ctx, f.other0(), "13800138000", "1.2.3.4"); !errs.Is(err, "sms_not_configured") {
			t.Fatalf("unconfigured shop: %v", err)
		}
		if _, err := f.s.SendCode(ctx, f.a, "13800138000", "1.2.3.4"); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.SendCode(ctx, f.a, "13800138000", "1.2.3.4")
		wantCode(t, err, "code_too_soon")
		if e := errs.As(err); e.RetryAfter <= 0 || e.RetryAfter > time.Minute {
			t.Fatalf("retry after %v", e.RetryAfter)
		}
		// A wrong code five times kills the code, even the right one after.
		code := f.sb.LastCode("13800138000")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range 4 {
			_, err := f.s.VerifyCode(ctx, f.a, "13800138000", wrong)
			wantCode(t, err, "wrong_code")
		}
		_, err = f.s.VerifyCode(ctx, f.a, "13800138000", wrong)
		wantCode(t, err, "code_exhausted")
		_, err = f.s.VerifyCode(ctx, f.a, "13800138000", code)
		wantCode(t, err, "code_exhausted")
		if f.phone(t, f.a) != "" {
			t.Fatal("an exhausted code bound the phone")
		}
		// Expiry.
		f.advance(61 * time.Second)
		if _, err := f.s.SendCode(ctx, f.a, "13800138000", "1.2.3.4"); err != nil {
			t.Fatal(err)
		}
		f.advance(5*time.Minute + time.Second)
		_, err = f.s.VerifyCode(ctx, f.a, "13800138000", f.sb.LastCode("13800138000"))
		wantCode(t, err, "code_expired")
		// Another member cannot use a code sent for a.
		f.advance(time.Minute)
		f.s.SendCode(ctx, f.a, "13800138000", "1.2.3.4")
		_, err = f.s.VerifyCode(ctx, f.b, "13800138000", f.sb.LastCode("13800138000"))
		wantCode(t, err, "code_not_found")
		// The daily cap per phone: 10 sends (3 so far).
		for range 7 {
			f.advance(61 * time.Second)
			if _, err := f.s.SendCode(ctx, f.b, "13800138000", "5.6.7.8"); err != nil {
				t.Fatal(err)
			}
		}
		f.advance(61 * time.Second)
		_, err = f.s.SendCode(ctx, f.b, "13800138000", "5.6.7.8")
		wantCode(t, err, "code_daily_limit")
		if n := len(f.sb.Sent()); n != 10 {
			t.Fatalf("%d sent, want 10", n)
		}
	})
}

func (f *fixture) other0() auth.Member { return f.oth }

func TestCodeCapPerAddress(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.configure(t, f.shop, sms.Tencent)
		f.s.SetLimits(Limits{Interval: time.Minute, TTL: 5 * time.Minute, Tries: 5, PerPhoneDay: 10, PerAddressDay: 3})
		phones := []string{"13800000001", "13800000002", "13800000003", "13800000004"}
		for i, p := range phones {
			_, err := f.s.SendCode(ctx, f.a, p, "9.9.9.9")
			if i < 3 && err != nil {
				t.Fatal(err)
			}
			if i == 3 {
				wantCode(t, err, "code_daily_limit")
			}
		}
		f.advance(61 * time.Second) // the refused send took the phone's slot
		if _, err := f.s.SendCode(ctx, f.a, phones[3], "9.9.9.10"); err != nil {
			t.Fatalf("another address: %v", err)
		}
	})
}

func TestConcurrentSendsForOnePhoneSendOnce(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.configure(t, f.shop, sms.Aliyun)
		var ok, tooSoon atomic.Int32
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := f.a
				if i%2 == 1 {
					m = f.b
				}
				_, err := f.s.SendCode(ctx, m, "13700137000", "1.1.1.1")
				switch {
				case err == nil:
					ok.Add(1)
				case errs.Is(err, "code_too_soon"):
					tooSoon.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 || tooSoon.Load() != 23 || len(f.sb.Sent()) != 1 {
			t.Fatalf("ok %d too soon %d sent %d", ok.Load(), tooSoon.Load(), len(f.sb.Sent()))
		}
	})
}

func TestConcurrentGuessesNeverExceedTheTries(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.configure(t, f.shop, sms.Aliyun)
		if _, err := f.s.SendCode(ctx, f.a, "13600136000", "1.1.1.1"); err != nil {
			t.Fatal(err)
		}
		code := f.sb.LastCode("13600136000")
		var wrong, exhausted atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				guess := []byte("000000")
				guess[5] = byte('0' + i%10)
				if string(guess) == code {
					guess[0] = '9'
				}
				_, err := f.s.VerifyCode(ctx, f.a, "13600136000", string(guess))
				switch {
				case errs.Is(err, "wrong_code"):
					wrong.Add(1)
				case errs.Is(err, "code_exhausted"):
					exhausted.Add(1)
				default:
					t.Errorf("guess: %v", err)
				}
			}()
		}
		wg.Wait()
		var tries int
		d.QueryRow(ctx, `SELECT tries FROM sms_codes WHERE shop_id = ?`, f.shop).Scan(&tries)
		if wrong.Load() != 4 || exhausted.Load() != 16 || tries != 5 {
			t.Fatalf("wrong %d exhausted %d tries %d", wrong.Load(), exhausted.Load(), tries)
		}
		_, err := f.s.VerifyCode(ctx, f.a, "13600136000", code)
		wantCode(t, err, "code_exhausted")
	})
}

func TestProviderRefusals(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.configure(t, f.shop, sms.Aliyun)
		cases := []struct{ fail, code string }{
			{sandbox.InvalidNumber, "invalid_phone"}, {sandbox.Throttled, "sms_throttled"},
			{sandbox.BadTemplate, "sms_refused"}, {sandbox.SystemError, "sms_unavailable"},
		}
		for i, tc := range cases {
			f.sb.FailNext(tc.fail)
			phone := "1350000000" + string(rune('0'+i))
			_, err := f.s.SendCode(ctx, f.a, phone, "2.2.2.2")
			wantCode(t, err, tc.code)
			var live int
			d.QueryRow(ctx, `SELECT COUNT(*) FROM sms_codes WHERE phone = ? AND state = 'live'`, phone).Scan(&live)
			if live != 0 {
				t.Fatalf("%s: a code that was never sent is live", tc.fail)
			}
		}
		// A temporary failure gives the slot back; a refusal keeps it.
		if _, err := f.s.SendCode(ctx, f.a, "13500000003", "2.2.2.2"); err != nil {
			t.Fatalf("after a system error: %v", err)
		}
		_, err := f.s.SendCode(ctx, f.a, "13500000002", "2.2.2.2")
		wantCode(t, err, "code_too_soon")
	})
}

func TestOptouts(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		d.Exec(ctx, `UPDATE members SET phone = '13800138000' WHERE id IN (?, ?)`, f.b.ID, f.oth.ID)
		if got, _ := f.s.Unsubscribe(ctx, f.shop, f.a.ID); !got.Unsubscribed {
			t.Fatal("unsubscribe")
		}
		if _, err := f.s.Unsubscribe(ctx, f.shop, f.a.ID); err != nil {
			t.Fatalf("twice: %v", err)
		}
		res, err := f.s.RecordReply(ctx, f.shop, ReplyInput{Phone: "13800138000", Reply: " t "})
		if err != nil || len(res.Unsubscribed) != 1 || res.Unsubscribed[0] != f.b.ID {
			t.Fatalf("reply: %+v %v", res, err)
		}
		_, err = f.s.RecordReply(ctx, f.shop, ReplyInput{Phone: "13800138001", Reply: "T"})
		wantCode(t, err, "member_not_found")
		_, err = f.s.RecordReply(ctx, f.shop, ReplyInput{Phone: "13800138000", Reply: "好的"})
		wantCode(t, err, "invalid_fields")
		for m, want := range map[auth.Member]bool{f.a: true, f.b: true, f.oth: false} {
			if out, _ := f.s.OptedOut(ctx, d, m.ShopID, m.ID); out != want {
				t.Fatalf("member %d opted out %v", m.ID, out)
			}
		}
		list, err := f.s.Optouts(ctx, f.shop, 0, 10)
		if err != nil || len(list) != 2 || list[0].MemberID != f.b.ID || list[0].Phone != "138****8000" || list[0].Source != "reply" {
			t.Fatalf("list %+v %v", list, err)
		}
		if other, _ := f.s.Optouts(ctx, f.other, 0, 10); len(other) != 0 {
			t.Fatal("opt-outs leaked across shops")
		}
	})
}

func TestSweepForgetsOldCodesAndSlots(t *testing.T) {
	db.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.configure(t, f.shop, sms.Aliyun)
		if _, err := f.s.SendCode(ctx, f.a, "13800138000", "1.2.3.4"); err != nil {
			t.Fatal(err)
		}
		count := func() (codes, slots int) {
			d.QueryRow(ctx, `SELECT COUNT(*) FROM sms_codes`).Scan(&codes)
			d.QueryRow(ctx, `SELECT COUNT(*) FROM sms_phone_slots`).Scan(&slots)
			return
		}
		f.s.sweep(ctx, jobs.Job{})
		if c, s := count(); c != 1 || s != 1 {
			t.Fatalf("a fresh code was swept: %d %d", c, s)
		}
		f.advance(49 * time.Hour)
		if err := f.s.sweep(ctx, jobs.Job{}); err != nil {
			t.Fatal(err)
		}
		if c, s := count(); c != 0 || s != 0 {
			t.Fatalf("left %d codes, %d slots", c, s)
		}
	})
}
