package engine

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRuleFileRoundTrip(t *testing.T) {
	rules := []Rule{
		{Word: "微信", Category: "ads", Level: LevelBlock, Forms: FormPinyin | FormInitials},
		{Word: "代开发票", Category: "fraud", Level: LevelReview},
		{Word: "a, \"quoted\" word", Category: "ads", Level: LevelBlock},
	}
	var text, csvOut bytes.Buffer
	if err := WriteRules(&text, rules[:2]); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRules(&text)
	if err != nil || !reflect.DeepEqual(got, rules[:2]) {
		t.Fatalf("text round trip: %+v %v", got, err)
	}
	if err := WriteRulesCSV(&csvOut, rules); err != nil {
		t.Fatal(err)
	}
	got, err = ReadRulesCSV(&csvOut)
	if err != nil || !reflect.DeepEqual(got, rules) {
		t.Fatalf("CSV round trip: %+v %v", got, err)
	}
}

func TestReadRulesReportsEveryBadLine(t *testing.T) {
	in := "\ufeff# comment\n微信\tads\tblock\n\n坏行\n赌博\tfraud\tBLOCK\n@@\tads\tblock\nok\tads\treview\tzhuyin\r\n好\tads\treview\r\n"
	_, err := ReadRules(strings.NewReader(in))
	var fe FileErrors
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
	var lines []int
	for _, e := range fe {
		lines = append(lines, e.Line)
	}
	if !reflect.DeepEqual(lines, []int{4, 5, 6, 7}) {
		t.Fatalf("bad lines %v (%v)", lines, err)
	}
	rules, err := ReadRules(strings.NewReader("微信\tads\tblock\r\n好\tads\treview\n"))
	if err != nil || len(rules) != 2 || rules[1].Word != "好" {
		t.Fatalf("%+v %v", rules, err)
	}
}

func TestReadRulesCSVErrors(t *testing.T) {
	for _, in := range []string{"", "w,c,l\n", "word,category,level\n微信,ads\n", "word,category,level\n\"bad\n"} {
		if _, err := ReadRulesCSV(strings.NewReader(in)); err == nil {
			t.Errorf("ReadRulesCSV(%q) accepted", in)
		}
	}
	_, err := ReadRulesCSV(strings.NewReader("word,category,level\n微信,ads,block\n赌博,fraud,maybe\n"))
	var fe FileErrors
	if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Line != 3 {
		t.Fatalf("err = %v", err)
	}
}
