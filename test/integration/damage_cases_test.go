package integration

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestDamagedDataDir damages a copy of a real data directory at chosen places and checks the
// outcome: a refused start with a clear message, or a server on which only the damaged item
// fails; no blob is removed and the child process never crashes.
func TestDamagedDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child servers")
	}
	b := damageFixture(t)
	dbOf := func(dir string) string { return filepath.Join(dir, "meta.db") }
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		// refuse is a phrase the refusal must contain; "" means the server must serve.
		refuse string
		// failing is how many objects and KMS keys may fail to read when it serves.
		objectsFailing, keysFailing int
		// reported is damage that serving works around and admin check reports.
		reported bool
	}{
		{"top-level bucket of buckets renamed", func(t *testing.T, dir string) {
			flipAll(t, dbOf(dir), "s3.buckets", 3, 'c')
		}, "meta.db", 0, 0, false},
		{"top-level bucket of KMS keys renamed", func(t *testing.T, dir string) {
			withDB(t, dir, func(tx *bolt.Tx) error { return renameTop(tx, "kms.keys", "kms.kexs") })
		}, "top-level bucket \"kms.keys\" is missing", 0, 0, false},
		{"top-level bucket of aliases renamed", func(t *testing.T, dir string) {
			withDB(t, dir, func(tx *bolt.Tx) error { return renameTop(tx, "kms.aliases", "kms.aliasfs") })
		}, "top-level bucket \"kms.aliases\" is missing", 0, 0, false},
		{"top-level bucket of buckets renamed in a store from before the format record", func(t *testing.T, dir string) {
			withDB(t, dir, func(tx *bolt.Tx) error {
				if err := tx.DeleteBucket([]byte("coffer")); err != nil {
					return err
				}
				return renameTop(tx, "s3.buckets", "s3.bucketr")
			})
		}, "unknown top-level bucket \"s3.bucketr\"", 0, 0, false},
		{"store from before the format record", func(t *testing.T, dir string) {
			withDB(t, dir, func(tx *bolt.Tx) error {
				for _, name := range []string{"coffer", "kms.root", "s3.intents"} {
					if err := tx.DeleteBucket([]byte(name)); err != nil {
						return err
					}
				}
				return nil
			})
		}, "", 0, 0, false},
		{"format bucket renamed", func(t *testing.T, dir string) {
			flipAll(t, dbOf(dir), "coffer\x00", 0, 'd')
		}, "meta.db", 0, 0, false},
		{"format record changed", func(t *testing.T, dir string) {
			flipAll(t, dbOf(dir), `"buckets"`, 2, 'B')
		}, "format record", 0, 0, false},
		{"page of the object index: type", func(t *testing.T, dir string) {
			flipAt(t, dbOf(dir), objectPage(t, dir)+8, 0x40)
		}, "damaged", 0, 0, false},
		{"page of the object index: count", func(t *testing.T, dir string) {
			flipAt(t, dbOf(dir), objectPage(t, dir)+11, 0x7f)
		}, "damaged", 0, 0, false},
		// The index of 50 encrypted objects spans several leaves under a branch page. Its first
		// key now points into zeroed free space: still in order, so bbolt cannot tell; as the
		// key only routes lookups to the first leaf, every object still serves.
		{"page of the object index: element offset", func(t *testing.T, dir string) {
			page := objectPage(t, dir)
			if !isBranchPage(t, dbOf(dir), page) {
				t.Fatal("the object index root is no longer a branch page; revisit this case")
			}
			flipAt(t, dbOf(dir), page+16+1, 0x7f) // branch element: pos is its first field
		}, "", 0, 0, false},
		// The same on the first leaf: its first key now points into zeroed free space, which
		// sorts below the key its branch page routes by, so the check at open finds it.
		{"leaf page of the object index: element offset", func(t *testing.T, dir string) {
			flipAt(t, dbOf(dir), firstLeafPage(t, dbOf(dir), objectPage(t, dir))+16+4+1, 0x7f)
		}, "is damaged", 0, 0, false},
		{"KMS key record", func(t *testing.T, dir string) {
			withDB(t, dir, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("kms.keys")).Put([]byte(b.kms[1]), []byte("{\"ID\":garbage"))
			})
		}, "", 0, 1, false},
		{"KMS key material", func(t *testing.T, dir string) {
			withDB(t, dir, func(tx *bolt.Tx) error {
				kb := tx.Bucket([]byte("kms.keys"))
				v := bytes.Clone(kb.Get([]byte(b.kms[2])))
				i := bytes.Index(v, []byte(`"Sealed":"`)) + len(`"Sealed":"`) + 30
				v[i] ^= 'A' ^ 'B' // another base64 letter: the JSON still decodes
				if v[i] == '"' || v[i] == '\\' {
					v[i] = 'Q'
				}
				return kb.Put([]byte(b.kms[2]), v)
			})
		}, "", 0, 1, false},
		{"root-key canary", func(t *testing.T, dir string) {
			withDB(t, dir, func(tx *bolt.Tx) error {
				rb := tx.Bucket([]byte("kms.root"))
				v := bytes.Clone(rb.Get([]byte("canary")))
				v[len(v)-1] ^= 1
				return rb.Put([]byte("canary"), v)
			})
		}, "", 0, 0, true},
		{"root key", func(t *testing.T, dir string) {
			flipAt(t, filepath.Join(dir, "kms", "root.key"), 7, 0x01)
		}, "root key does not open the stored keys", 0, 0, false},
		{"credentials", func(t *testing.T, dir string) {
			flipAt(t, filepath.Join(dir, "credentials.json"), 0, '{'^'[')
		}, "credentials.json is corrupt", 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, b.dir)
			tc.damage(t, dir)
			before := blobFiles(t, dir)
			o := startDamaged(t, dir)
			if tc.refuse != "" {
				if o.refused == "" {
					o.stop()
					t.Fatalf("server started; want a refusal mentioning %q", tc.refuse)
				}
				if !strings.Contains(o.refused, tc.refuse) {
					t.Fatalf("refusal %q does not mention %q", o.refused, tc.refuse)
				}
			} else {
				if o.refused != "" {
					t.Fatalf("server refused: %s", o.refused)
				}
				r := readEverything(t, o.e, b)
				o.stop()
				if r.objectsFailed != tc.objectsFailing || r.keysFailed != tc.keysFailing {
					t.Fatalf("objects failing %d (want %d), keys failing %d (want %d): %q", r.objectsFailed, tc.objectsFailing, r.keysFailed, tc.keysFailing, r.failures)
				}
				for _, f := range r.failures {
					if !strings.HasSuffix(f, "KMSInternalException") && !strings.HasSuffix(f, "InternalError") && !strings.HasSuffix(f, "NoSuchKey") {
						t.Errorf("failure %q, want KMSInternalException, InternalError or NoSuchKey", f)
					}
				}
			}
			if after := blobFiles(t, dir); !slices.Equal(before, after) {
				t.Fatalf("blob files before %d, after %d", len(before), len(after))
			}
			rep := checkDamaged(t, dir)
			if clean := tc.refuse == "" && tc.keysFailing+tc.objectsFailing == 0 && !tc.reported; clean != (len(rep.Findings) == 0) {
				t.Fatalf("admin check findings: %q", rep.Findings)
			}
		})
	}
}

// TestRandomByteFlips changes one random byte of meta.db per trial (seeded, bounded) and
// checks that the server refuses or serves, never crashes, never removes a blob, and that
// admin check does not crash either.
func TestRandomByteFlips(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child servers")
	}
	b := damageFixture(t)
	pages, pageSize := livePages(t, b.dir)
	rng := rand.New(rand.NewPCG(14, 2026))
	deadline := time.Now().Add(25 * time.Second)
	refused, served := 0, 0
	for trial := 0; trial < 50 && time.Now().Before(deadline); trial++ {
		off := pages[rng.IntN(len(pages))]*pageSize + rng.Int64N(pageSize)
		x := byte(1 + rng.IntN(255))
		t.Run("", func(t *testing.T) {
			dir := copyDir(t, b.dir)
			flipAt(t, filepath.Join(dir, "meta.db"), off, x)
			before := blobFiles(t, dir)
			o := startDamaged(t, dir)
			if o.refused != "" {
				refused++
				if !strings.Contains(o.refused, "meta.db") && !strings.Contains(o.refused, "kms") {
					t.Fatalf("offset %d: unclear refusal %q", off, o.refused)
				}
			} else {
				served++
				readEverything(t, o.e, b)
				o.stop()
			}
			if after := blobFiles(t, dir); !slices.Equal(before, after) {
				t.Fatalf("offset %d ^%02x: blob files before %d, after %d", off, x, len(before), len(after))
			}
			checkDamaged(t, dir)
		})
	}
	t.Logf("%d refused, %d served", refused, served)
}

// renameTop renames a top-level bucket, as a changed byte in its name does, by copying it.
func renameTop(tx *bolt.Tx, from, to string) error {
	dst, err := tx.CreateBucket([]byte(to))
	if err != nil {
		return err
	}
	if err := copyBucket(tx.Bucket([]byte(from)), dst); err != nil {
		return err
	}
	return tx.DeleteBucket([]byte(from))
}

func copyBucket(src, dst *bolt.Bucket) error {
	return src.ForEach(func(k, v []byte) error {
		if v != nil {
			return dst.Put(k, v)
		}
		child, err := dst.CreateBucket(k)
		if err != nil {
			return err
		}
		return copyBucket(src.Bucket(k), child)
	})
}

// livePages lists the pages of meta.db in use (meta, freelist, branch and leaf pages, not free
// ones), so that random damage lands where it matters.
func livePages(t *testing.T, dir string) ([]int64, int64) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(copyDir(t, dir), "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []int64
	err = db.View(func(tx *bolt.Tx) error {
		for id := 0; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type != "free" {
				out = append(out, int64(id))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, int64(db.Info().PageSize)
}
