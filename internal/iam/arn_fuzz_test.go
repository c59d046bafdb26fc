package iam_test

import (
	"testing"

	"github.com/coffer/coffer/internal/iam"
)

// FuzzParsePolicyARN: any input parses or fails without panicking, and what parses renders
// back to the same ARN.
func FuzzParsePolicyARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::111122223333:policy/Read",
		"arn:aws:iam::111122223333:policy/a/b/Read",
		"arn:aws:iam::aws:policy/ReadOnlyAccess",
		"arn:aws:iam::111122223333:role/R",
		"arn:aws:iam::1111:policy/x",
		"arn:aws:iam::111122223333:policy/",
		"arn:aws:iam:::policy/x",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := iam.ParsePolicyARN(s)
		if err != nil {
			return
		}
		if got := "arn:aws:iam::" + ref.Account + ":policy" + ref.Path + ref.Name; got != s {
			t.Fatalf("ParsePolicyARN(%q) = %+v, renders %q", s, ref, got)
		}
	})
}
