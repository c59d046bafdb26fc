package integration

import (
	"crypto/sha256"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestConcurrentPutsOneKey races eight PUTs of different bodies to one key: afterwards the key
// holds exactly one of them, whole, and its ETag belongs to that body.
func TestConcurrentPutsOneKey(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "race")
	for round := range 3 {
		bodies := map[[32]byte]string{}
		var wg sync.WaitGroup
		var mu sync.Mutex
		etags := map[string][32]byte{}
		for w := range 8 {
			data := randomBytes(uint64(round*10+w), 256<<10+w*1000)
			sum := sha256.Sum256(data)
			bodies[sum] = ""
			wg.Go(func() {
				out, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("one-key"), Body: bytesReader(data)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				etags[aws.ToString(out.ETag)] = sum
				mu.Unlock()
			})
		}
		wg.Wait()
		g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("race"), Key: aws.String("one-key")}))
		got := sha256.Sum256([]byte(readAll(t, g.Body)))
		if _, ok := bodies[got]; !ok {
			t.Fatalf("round %d: the key holds none of the bodies sent (torn write)", round)
		}
		if etags[aws.ToString(g.ETag)] != got {
			t.Fatalf("round %d: ETag %s does not belong to the stored body", round, aws.ToString(g.ETag))
		}
	}
	// Every replaced body was freed: one object, one blob.
	blobs := 0
	filepath.WalkDir(filepath.Join(e.dir, "blobs", "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs++
		}
		return nil
	})
	if blobs != 1 {
		t.Fatalf("%d blobs stored for one object", blobs)
	}
}
