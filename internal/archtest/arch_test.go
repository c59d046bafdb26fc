// Package archtest holds the dependency directions of STYLE.md: wire layers → services →
// storage interfaces, with the format and key packages depending on nothing of ours.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/coffer/coffer/"

// deps maps each of our packages to the packages of ours it imports, test files excluded.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		m[pkg] = nil
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, mod) {
				m[pkg] = append(m[pkg], strings.TrimPrefix(imp, mod))
			}
		}
	}
	return m
}

// boltBackend reports the bbolt backends of the KMS, IAM and trail stores, which open their buckets
// in meta.db through internal/boltfile as the metadata store's backend (boltmeta) does.
func boltBackend(pkg string) bool {
	return pkg == "internal/kms/kmsbolt" || pkg == "internal/iam/boltiam" || pkg == "internal/trail/bolttrail"
}

func under(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

func TestDependencyDirections(t *testing.T) {
	m := deps(t)
	if len(m) < 10 {
		t.Fatalf("go list found only %d packages", len(m))
	}
	rules := []struct {
		name    string
		applies func(pkg string) bool
		allowed func(imp string) bool
	}{
		{"sse imports only secret", func(p string) bool { return under(p, "internal/sse") },
			func(i string) bool { return i == "internal/secret" || under(i, "internal/sse") }},
		{"secret imports nothing of ours", func(p string) bool { return p == "internal/secret" },
			func(string) bool { return false }},
		{"policy imports nothing of ours", func(p string) bool { return under(p, "internal/policy") },
			func(i string) bool { return under(i, "internal/policy") }},
		{"storage imports only storage", func(p string) bool { return under(p, "internal/meta") || under(p, "internal/blob") },
			func(i string) bool {
				return under(i, "internal/meta") || under(i, "internal/blob") || i == "internal/boltfile" || i == "internal/pgdb"
			}},
		{"boltfile imports nothing of ours", func(p string) bool { return p == "internal/boltfile" },
			func(string) bool { return false }},
		{"pgdb imports nothing of ours", func(p string) bool { return p == "internal/pgdb" },
			func(string) bool { return false }},
		{"cluster imports nothing of ours", func(p string) bool { return p == "internal/cluster" },
			func(string) bool { return false }},
		{"cluster's PostgreSQL coordinator knows cluster and pgdb only", func(p string) bool { return p == "internal/cluster/pgcluster" },
			func(i string) bool { return i == "internal/cluster" || i == "internal/pgdb" }},
		{"the IAM and trail PostgreSQL backends know their service's types, its records and pgdb", func(p string) bool {
			return p == "internal/iam/pgiam" || p == "internal/trail/pgtrail"
		}, func(i string) bool {
			return i == "internal/iam" || i == "internal/iam/iamrec" || i == "internal/trail" || i == "internal/trail/trailrec" || i == "internal/pgdb"
		}},
		{"object knows no wire layer, no KMS internals, no backend", func(p string) bool { return under(p, "internal/object") },
			func(i string) bool {
				return i == "internal/meta" || i == "internal/blob" || i == "internal/sse" || i == "internal/secret" || i == "internal/policy" || i == "internal/iam"
			}},
		{"iam imports only policy and secret", func(p string) bool { return p == "internal/iam" },
			func(i string) bool { return i == "internal/policy" || i == "internal/secret" }},
		{"kms knows nothing of S3", func(p string) bool { return under(p, "internal/kms") && !boltBackend(p) && p != "internal/kms/pgkms" },
			func(i string) bool {
				return under(i, "internal/kms") || i == "internal/secret" || i == "internal/policy" || i == "internal/iam" || i == "internal/audit"
			}},
		{"the KMS's bbolt backend knows the KMS and the bbolt file only", func(p string) bool { return p == "internal/kms/kmsbolt" },
			func(i string) bool { return under(i, "internal/kms") || i == "internal/boltfile" }},
		{"the KMS's PostgreSQL backend knows the KMS's types, its records and pgdb", func(p string) bool { return p == "internal/kms/pgkms" },
			func(i string) bool { return i == "internal/kms" || i == "internal/kms/kmsrec" || i == "internal/pgdb" }},
		{"the KMS's record codec knows the KMS's types only", func(p string) bool { return p == "internal/kms/kmsrec" },
			func(i string) bool { return i == "internal/kms" }},
		{"s3api never imports kmsapi", func(p string) bool { return under(p, "internal/s3api") },
			func(i string) bool { return !under(i, "internal/kmsapi") && !under(i, "internal/server") }},
		{"s3api never imports meta: object hands it views without key material", func(p string) bool { return under(p, "internal/s3api") },
			func(i string) bool { return !under(i, "internal/meta") }},
		{"trail knows the audit records and the object service, no wire layer", func(p string) bool { return p == "internal/trail" },
			func(i string) bool { return i == "internal/audit" || i == "internal/object" }},
		{"the trails' bbolt backend knows the trails and the bbolt file only", func(p string) bool { return p == "internal/trail/bolttrail" },
			func(i string) bool { return under(i, "internal/trail") || i == "internal/boltfile" }},
		{"trailapi knows no other wire layer, no object or KMS internals", func(p string) bool { return under(p, "internal/trailapi") },
			func(i string) bool {
				return i == "internal/trail" || i == "internal/audit" || i == "internal/iam" || i == "internal/sigv4" || i == "internal/policy" || i == "internal/awsjson" || i == "internal/requestinfo"
			}},
		{"kmsapi never imports s3api", func(p string) bool { return under(p, "internal/kmsapi") },
			func(i string) bool {
				return !under(i, "internal/s3api") && !under(i, "internal/object") && !under(i, "internal/server")
			}},
		{"iamapi knows no other wire layer, no object or KMS internals", func(p string) bool { return under(p, "internal/iamapi") },
			func(i string) bool {
				return under(i, "internal/iam") && !under(i, "internal/iam/boltiam") && !under(i, "internal/iam/pgiam") || i == "internal/sigv4" || i == "internal/policy" || i == "internal/secret" || i == "internal/audit" || i == "internal/requestinfo"
			}},
		{"awsjson knows only sigv4", func(p string) bool { return p == "internal/awsjson" },
			func(i string) bool { return i == "internal/sigv4" }},
		{"requestinfo imports nothing of ours", func(p string) bool { return p == "internal/requestinfo" },
			func(i string) bool { return false }},
		{"sigv4 imports nothing of ours", func(p string) bool { return under(p, "internal/sigv4") },
			func(i string) bool { return false }},
		{"only backend, migrate, server's tools of a data directory and cmd name backends", func(p string) bool {
			return !under(p, "internal/server") && !under(p, "cmd") && p != "internal/backend" && p != "internal/migrate" && !strings.HasSuffix(p, "test") && !under(p, "internal/blob") && !under(p, "internal/meta") && !boltBackend(p)
		}, func(i string) bool {
			return !under(i, "internal/blob/fsblob") && !under(i, "internal/meta/boltmeta") && i != "internal/boltfile" &&
				!under(i, "internal/meta/pgmeta") && !under(i, "internal/iam/pgiam") && !under(i, "internal/trail/pgtrail") && !under(i, "internal/kms/pgkms") &&
				!under(i, "internal/cluster/pgcluster")
		}},
		{"server takes its stores from backend and names no shared backend: cmd/coffer chooses them", func(p string) bool { return under(p, "internal/server") },
			func(i string) bool {
				return i != "internal/pgdb" && !under(i, "internal/meta/pgmeta") && !under(i, "internal/iam/pgiam") && !under(i, "internal/trail/pgtrail") &&
					!under(i, "internal/kms/pgkms") && !under(i, "internal/blob/s3blob") && !under(i, "internal/blob/bloburl")
			}},
		{"only cmd runs migrations", func(p string) bool { return !under(p, "cmd") && !under(p, "internal/migrate") },
			func(i string) bool { return !under(i, "internal/migrate") }},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			checked := 0
			for pkg, imps := range m {
				if !r.applies(pkg) {
					continue
				}
				checked++
				for _, imp := range imps {
					if !r.allowed(imp) {
						t.Errorf("%s imports %s", pkg, imp)
					}
				}
			}
			// Rules for packages that exist from the foundation on must bite; the others
			// (kms, policy) apply as soon as their packages appear.
			if checked == 0 && !strings.Contains(r.name, "policy") && !strings.Contains(r.name, "kms") {
				t.Errorf("rule matched no package")
			}
		})
	}
}
