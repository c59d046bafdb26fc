package kms

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies holds the layering of STYLE.md: the key service knows nothing of HTTP,
// S3 or the wire layers.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	if !strings.Contains(string(out), "github.com/coffer/coffer/internal/secret") {
		t.Fatalf("go list -deps output lacks a known dependency:\n%s", out)
	}
	forbidden := []string{"net/http", "/internal/kmsapi", "/internal/s3api", "/internal/object", "/internal/sigv4", "/internal/sse", "go.etcd.io/bbolt"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasSuffix(dep, f) {
				t.Errorf("package kms depends on %s", dep)
			}
		}
	}
}
