package mask

import "testing"

func TestPhoneAndName(t *testing.T) {
	for in, want := range map[string]string{"13800138000": "138****8000", "+86 13800138000": "+86 138****8000",
		"0571-88886666": "0571-****6666", "12345": "12345", "": ""} {
		if got := Phone(in); got != want {
			t.Errorf("Phone(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"张三丰": "张**", "李雷": "李*", "王": "王", "Li Lei": "L*****", "": ""} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}
