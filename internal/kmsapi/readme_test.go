package kmsapi

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeListsEveryOperation: the README's KMS operations table has one row per operation
// the handler routes (AWS's 54, KMS_API.md §1), and says UnsupportedOperationException exactly
// for those routed to opUnsupported.
func TestReadmeListsEveryOperation(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(operations) != 54 {
		t.Errorf("the handler routes %d operations, want AWS's 54", len(operations))
	}
	rows := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\| ([A-Z][A-Za-z]+) \| (.*) \|$`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := operations[m[1]]; ok {
			rows[m[1]] = m[2]
		}
	}
	unsupported := reflect.ValueOf(opUnsupported).Pointer()
	for name, fn := range operations {
		t.Run(name, func(t *testing.T) {
			status, ok := rows[name]
			if !ok {
				t.Fatal("README: no row")
			}
			want := reflect.ValueOf(fn).Pointer() == unsupported
			if strings.HasPrefix(status, "UnsupportedOperationException") != want {
				t.Fatalf("README says %q; routed to opUnsupported: %v", status, want)
			}
		})
	}
}
