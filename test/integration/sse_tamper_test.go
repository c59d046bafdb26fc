package integration

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/server"
)

const tamperBucket = "tamper"

// startIn runs a server on dir that the test stops itself (stopEnv) before editing dir.
func startIn(t *testing.T, dir string) *env {
	t.Helper()
	srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, srv: srv, region: "us-east-1"}
	e.s3 = e.client(testAccessKey, testSecretKey, nil)
	return e
}

// objectRecord reads the stored record of an object: its JSON fields, after the version byte.
func objectRecord(tx *bolt.Tx, key string) map[string]json.RawMessage {
	v := tx.Bucket([]byte("s3.buckets")).Bucket([]byte(tamperBucket)).Bucket([]byte("o")).Get([]byte(key))
	var m map[string]json.RawMessage
	if len(v) < 1 || json.Unmarshal(v[1:], &m) != nil {
		return nil
	}
	return m
}

func putRecord(t *testing.T, tx *bolt.Tx, key string, m map[string]json.RawMessage) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Bucket([]byte("s3.buckets")).Bucket([]byte(tamperBucket)).Bucket([]byte("o")).Put([]byte(key), append([]byte{1}, b...)); err != nil {
		t.Fatal(err)
	}
}

// blobFile returns the file holding the (single) blob of an object.
func blobFile(t *testing.T, dir, key string) string {
	t.Helper()
	var name string
	withDB(t, dir, func(tx *bolt.Tx) error {
		var parts []struct {
			Blob string `json:"b"`
		}
		if err := json.Unmarshal(objectRecord(tx, key)["p"], &parts); err != nil || len(parts) != 1 || parts[0].Blob == "" {
			t.Fatalf("object %s: parts %+v, %v", key, parts, err)
		}
		name = parts[0].Blob[strings.LastIndex(parts[0].Blob, "/")+1:]
		return nil
	})
	var found string
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == name {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no file for blob %s", name)
	}
	return found
}

func editFile(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSSES3Tamper damages encrypted state while the server is stopped: every GET of a damaged
// object must fail with 500 InternalError, never return other bytes, and undamaged objects
// must still read.
func TestSSES3Tamper(t *testing.T) {
	blobA, blobB := sseBody(200<<10), bytes.ToUpper(sseBody(200<<10))
	inlineC, inlineD := sseBody(900), bytes.ToLower(sseBody(900))
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		damaged []string
	}{
		{"flipped byte in a blob", func(t *testing.T, dir string) {
			editFile(t, blobFile(t, dir, "a"), func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
		}, []string{"a"}},
		{"blobs of two objects swapped", func(t *testing.T, dir string) {
			fa, fb := blobFile(t, dir, "a"), blobFile(t, dir, "b")
			tmp := fa + ".swap"
			for _, mv := range [][2]string{{fa, tmp}, {fb, fa}, {tmp, fb}} {
				if err := os.Rename(mv[0], mv[1]); err != nil {
					t.Fatal(err)
				}
			}
		}, []string{"a", "b"}},
		{"encryption records of two objects swapped", func(t *testing.T, dir string) {
			swapEncryptionRecords(t, dir, "a", "b")
		}, []string{"a", "b"}},
		{"blob truncated by a byte", func(t *testing.T, dir string) {
			editFile(t, blobFile(t, dir, "a"), func(b []byte) []byte { return b[:len(b)-1] })
		}, []string{"a"}},
		{"blob truncated at a package boundary", func(t *testing.T, dir string) {
			editFile(t, blobFile(t, dir, "a"), func(b []byte) []byte { return b[:32+2*(65536+16)] })
		}, []string{"a"}},
		{"flipped byte in an inline object", func(t *testing.T, dir string) {
			withDB(t, dir, func(tx *bolt.Tx) error {
				d := tx.Bucket([]byte("s3.buckets")).Bucket([]byte(tamperBucket)).Bucket([]byte("d"))
				v := bytes.Clone(d.Get([]byte("c")))
				v[len(v)/2] ^= 0x80
				return d.Put([]byte("c"), v)
			})
		}, []string{"c"}},
		{"inline objects swapped", func(t *testing.T, dir string) {
			withDB(t, dir, func(tx *bolt.Tx) error {
				d := tx.Bucket([]byte("s3.buckets")).Bucket([]byte(tamperBucket)).Bucket([]byte("d"))
				vc, vd := bytes.Clone(d.Get([]byte("c"))), bytes.Clone(d.Get([]byte("d")))
				if err := d.Put([]byte("c"), vd); err != nil {
					return err
				}
				return d.Put([]byte("d"), vc)
			})
		}, []string{"c", "d"}},
	}
	bodies := map[string][]byte{"a": blobA, "b": blobB, "c": inlineC, "d": inlineD}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			e := startIn(t, dir)
			newBucket(t, e, tamperBucket)
			for key, body := range bodies {
				must[*s3.PutObjectOutput](t)(e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(tamperBucket), Key: aws.String(key), Body: bytes.NewReader(body)}))
			}
			stopEnv(t, e)
			tc.damage(t, dir)
			e = startIn(t, dir)
			defer stopEnv(t, e)
			for key, body := range bodies {
				out, err := e.s3.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(tamperBucket), Key: aws.String(key), Range: aws.String("bytes=0-")})
				if !contains(tc.damaged, key) {
					if err != nil {
						t.Fatalf("undamaged %s: %v", key, err)
					}
					got := readBody(t, out)
					if !bytes.Equal(got, body) {
						t.Fatalf("undamaged %s: wrong bytes", key)
					}
					continue
				}
				wantAPIError(t, err, "InternalError", 500)
			}
		})
	}
}

// swapEncryptionRecords swaps the encryption records of objects a and b of tamperBucket in the
// stopped server's data directory dir.
func swapEncryptionRecords(t *testing.T, dir, a, b string) {
	t.Helper()
	withDB(t, dir, func(tx *bolt.Tx) error {
		ra, rb := objectRecord(tx, a), objectRecord(tx, b)
		ra["x"], rb["x"] = rb["x"], ra["x"]
		putRecord(t, tx, a, ra)
		putRecord(t, tx, b, rb)
		return nil
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func readBody(t *testing.T, out *s3.GetObjectOutput) []byte {
	t.Helper()
	defer out.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(out.Body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSSES3NoPlaintextOnDisk writes recognisable plaintext as a large object, a multipart
// object, an inline object, a POST-less copy and an unfinished upload, then scans every file
// under the data directory: the plaintext is nowhere.
func TestSSES3NoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	e := startIn(t, dir)
	c := ctx(t)
	newBucket(t, e, tamperBucket)
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(tamperBucket), Key: aws.String("large"), Body: bytes.NewReader(sseBody(3 << 20))}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(tamperBucket), Key: aws.String("inline"), Body: bytes.NewReader(sseBody(4000))}))
	putMultipart(t, e, tamperBucket, "mp", sseBody(5<<20), sseBody(1000))
	must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String(tamperBucket), Key: aws.String("copy"), CopySource: aws.String(tamperBucket + "/inline")}))
	up := must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String(tamperBucket), Key: aws.String("pending")}))
	must[*s3.UploadPartOutput](t)(e.s3.UploadPart(c, &s3.UploadPartInput{Bucket: aws.String(tamperBucket), Key: aws.String("pending"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(sseBody(70000))}))
	stopEnv(t, e)
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if i := bytes.Index(b, []byte(sseMarker)); i >= 0 {
			t.Errorf("plaintext in %s at offset %d", p, i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("scanned only %d files", files)
	}
}
