package wechat

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckKeyword(t *testing.T) {
	cases := []struct {
		key, value string
		ok         bool
	}{
		{"thing1", "连衣裙 红色 M 码", true},
		{"thing1", strings.Repeat("裙", 20), true},
		{"thing1", strings.Repeat("裙", 21), false},
		{"thing1", strings.Repeat("👍", 20), true},
		{"thing1", strings.Repeat("👍", 21), false},
		{"thing1", "", false},
		{"thing1", "   ", false},
		{"thing1", "a\x00b", false},
		{"number2", "42", true},
		{"number2", "-3.5", true},
		{"number2", "+7", true},
		{"number2", "4 2", false},
		{"number2", "四十二", false},
		{"number2", strings.Repeat("9", 33), false},
		{"letter3", "abcXYZ", true},
		{"letter3", "abc1", false},
		{"symbol4", "★★", true},
		{"symbol4", "%%%%%%", false},
		{"symbol4", "a", false},
		{"character_string5", "KD20261207-0001", true},
		{"character_string5", strings.Repeat("A", 32), true},
		{"character_string5", strings.Repeat("A", 33), false},
		{"character_string5", "订单1", false},
		{"character_string5", "A B", false},
		{"time6", "15:01", true},
		{"time6", "2019年10月1日 15:01", true},
		{"time6", "2019-10-01 15:01:30", true},
		{"time6", "2019-10-01 15:01~2019-10-01 18:00", true},
		{"time6", "15:01～18:00", true},
		{"time6", "3pm", false},
		{"time6", "25:00", false},
		{"time6", "2019-10-01", false},
		{"date7", "2019年10月1日", true},
		{"date7", "2019-10-01", true},
		{"date7", "2019-10-01 08:00", true},
		{"date7", "2019-10-01~2019-10-07", true},
		{"date7", "15:01", false},
		{"date7", "昨天", false},
		{"amount8", "¥12.50", true},
		{"amount8", "12.50元", true},
		{"amount8", "￥100", true},
		{"amount8", "¥1234567890", true},
		{"amount8", "¥12345678901", false},
		{"amount8", "¥¥12", false},
		{"amount8", "十二元", false},
		{"amount8", "-12.50", false},
		{"phone_number9", "+86-13800138000", true},
		{"phone_number9", "021-12345678", true},
		{"phone_number9", "13800138000x", false},
		{"phone_number9", "+86-1380013800012345", false},
		{"car_number10", "粤B12345", true},
		{"car_number10", "粤B1234学", true},
		{"car_number10", "粤B12345678", false},
		{"name11", "张三", true},
		{"name11", "欧阳娜娜·张三李四王五", false},
		{"name11", "Zhang San", true},
		{"name11", strings.Repeat("a", 21), false},
		{"name11", "😀", false},
		{"phrase12", "已发货", true},
		{"phrase12", "已经发货了啊", false},
		{"phrase12", "发货1", false},
		{"phrase12", "ok", false},
		{"phrase12", "👍", false},
		{"unknown1", "x", false},
		{"thing", "x", false},
	}
	for _, c := range cases {
		err := CheckKeyword(c.key, c.value)
		if (err == nil) != c.ok {
			t.Errorf("CheckKeyword(%q, %q) = %v, want ok=%v", c.key, c.value, err, c.ok)
		}
	}
}

func TestFitKeyword(t *testing.T) {
	cases := []struct {
		key, value, want string
		ok               bool
	}{
		{"thing1", "短标题", "短标题", true},
		{"thing1", strings.Repeat("裙", 25), strings.Repeat("裙", 19) + "…", true},
		{"thing1", strings.Repeat("ab", 15), strings.Repeat("ab", 9) + "a…", true},
		// An emoji family (👨‍👩‍👧, 5 runes) at the cut is dropped whole.
		{"thing1", strings.Repeat("好", 16) + "👨\u200d👩\u200d👧" + "尾巴", strings.Repeat("好", 16) + "…", true},
		// A skin tone stays with its hand or goes with it.
		{"thing1", strings.Repeat("好", 18) + "👍🏽" + "尾", strings.Repeat("好", 18) + "…", true},
		// A flag is two regional indicators: never half of one.
		{"thing1", strings.Repeat("好", 18) + "🇨🇳" + "尾", strings.Repeat("好", 18) + "…", true},
		{"name2", "欧阳娜娜张三李四王五赵六", "欧阳娜娜张三李四王…", true},
		{"name2", strings.Repeat("Ab", 12), strings.Repeat("Ab", 9) + "A…", true},
		{"amount3", "¥12345678901", "", false},
		{"character_string4", strings.Repeat("A", 40), "", false},
		{"phrase5", "已经发货了啊", "", false},
		{"time6", " 15:01 ", "15:01", true},
	}
	for _, c := range cases {
		got, err := FitKeyword(c.key, c.value)
		if (err == nil) != c.ok {
			t.Errorf("FitKeyword(%q, %q) error = %v, want ok=%v", c.key, c.value, err, c.ok)
			continue
		}
		if c.ok && got != c.want {
			t.Errorf("FitKeyword(%q, %q) = %q, want %q", c.key, c.value, got, c.want)
		}
		if c.ok && utf8.RuneCountInString(got) > 32 {
			t.Errorf("FitKeyword(%q) too long: %q", c.key, got)
		}
	}
}
