package iam

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckTags: IAM's tag rules, counted in characters (not bytes), with letters, spaces and
// digits of any script allowed.
func TestCheckTags(t *testing.T) {
	cases := []struct {
		name string
		tags []Tag
		want error
	}{
		{"none", nil, nil},
		{"unicode letters and spaces", []Tag{{Key: "Équipe Ünits", Value: "北京 2"}}, nil},
		{"all allowed punctuation", []Tag{{Key: "a_.:/=+-@", Value: "_.:/=+-@"}}, nil},
		{"empty value", []Tag{{Key: "k"}}, nil},
		{"128 multibyte characters", []Tag{{Key: strings.Repeat("é", 128)}}, nil},
		{"129 characters", []Tag{{Key: strings.Repeat("k", 129)}}, ErrValidation},
		{"256-character value", []Tag{{Key: "k", Value: strings.Repeat("é", 256)}}, nil},
		{"257-character value", []Tag{{Key: "k", Value: strings.Repeat("v", 257)}}, ErrValidation},
		{"empty key", []Tag{{Value: "v"}}, ErrValidation},
		{"semicolon", []Tag{{Key: "a;b"}}, ErrValidation},
		{"quote in value", []Tag{{Key: "k", Value: `"`}}, ErrValidation},
		{"invalid UTF-8", []Tag{{Key: "k\xff"}}, ErrValidation},
		{"aws: prefix any case", []Tag{{Key: "AwS:x"}}, ErrInvalidInput},
		{"aws without colon", []Tag{{Key: "awsx"}}, nil},
		{"duplicate ignoring case", []Tag{{Key: "Env"}, {Key: "env"}}, ErrInvalidInput},
		{"51 tags", make([]Tag, 51), ErrValidation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTags(tc.tags)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("checkTags = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestMergeTags: a key given again replaces the tag whatever its case, taking the new
// spelling; the 50-tag limit counts the result.
func TestMergeTags(t *testing.T) {
	got, err := mergeTags([]Tag{{Key: "Env", Value: "dev"}, {Key: "team", Value: "a"}}, []Tag{{Key: "ENV", Value: "prod"}, {Key: "x", Value: "1"}})
	if err != nil || len(got) != 3 || got[0] != (Tag{Key: "ENV", Value: "prod"}) || got[2].Key != "x" {
		t.Fatalf("mergeTags = %+v, %v", got, err)
	}
	full := make([]Tag, MaxTags)
	for i := range full {
		full[i].Key = strings.Repeat("k", i+1)
	}
	if _, err := mergeTags(full, []Tag{{Key: "K"}}); err != nil {
		t.Errorf("replacing in a full set: %v", err)
	}
	if _, err := mergeTags(full, []Tag{{Key: "new"}}); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("adding to a full set: %v", err)
	}
}
