package pgtrail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/audit/audittest"
	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/pgkms"
	"github.com/coffer/coffer/internal/meta/pgmeta"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/pgtest"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/server/objectkeys"
	"github.com/coffer/coffer/internal/trail"
)

const (
	trailAccount = "111122223333"
	trailBucket  = "trail-logs"
)

// trailBucketPolicy is the bucket policy AWS documents for a CloudTrail trail's bucket.
const trailBucketPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + trailBucket + `"},
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + trailBucket + `/AWSLogs/` + trailAccount + `/*",
  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`

// deliveryNode is one Coffer node as far as trail delivery goes: its own audit directory and
// Writer, and a trail.Service with its node id on a pool of its own on the shared database.
type deliveryNode struct {
	id     string
	dir    string // the node's audit directory
	sealer *audittest.Sealer
	signer audit.Signer
	w      *audit.Writer
	svc    *trail.Service
}

// cluster is what the nodes share: the trail store's database, the bucket's object service
// (pgmeta, a blob directory and the KMS on the same database, for the bucket's default
// encryption) and a clock.
type cluster struct {
	url     string
	objects *object.Service
	clk     *audittest.Clock
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	ms := pgtest.OpenStore(t, url, pgmeta.New)
	blobs, err := fsblob.NewShared(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := kms.OpenFileRootKey(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	keySvc, err := kms.New(kms.Config{Store: pgtest.OpenStore(t, url, pgkms.New), Root: root, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	objects := object.New(object.Config{Meta: ms, Blobs: blobs, Keys: objectkeys.New(keySvc, nil)})
	if err := objects.CreateBucket(ctx, trailAccount, trailBucket, "us-east-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := objects.PutBucketPolicy(ctx, trailBucket, trailBucketPolicy); err != nil {
		t.Fatal(err)
	}
	return &cluster{url: url, objects: objects, clk: audittest.NewClock()}
}

// start starts node id on its audit directory dir (a restart when it ran there before, with
// the same sealer).
func (c *cluster) start(t *testing.T, id, dir string, sealer *audittest.Sealer) *deliveryNode {
	t.Helper()
	ctx := context.Background()
	signer, err := audit.OpenSigner(ctx, dir, sealer)
	if err != nil {
		t.Fatal(err)
	}
	w, err := audit.Open(ctx, audit.Config{Dir: dir, Region: "us-east-1", AccountID: trailAccount, Signer: signer, Now: c.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc := trail.New(trail.Config{Store: newNode(t, c.url), Objects: c.objects, Region: "us-east-1", Logs: w, Signer: signer,
		Node: id, Now: c.clk.Now})
	n := &deliveryNode{id: id, dir: dir, sealer: sealer, signer: signer, w: w, svc: svc}
	t.Cleanup(func() { n.w.Close(context.Background()) })
	return n
}

// deliver runs the node's delivery as its shutdown does (final: the open file is finished and
// the open period digested), or as a background round.
func (n *deliveryNode) deliver(t *testing.T, final bool) {
	t.Helper()
	if err := n.svc.Deliver(context.Background(), final); err != nil {
		t.Fatalf("node %s: Deliver: %v", n.id, err)
	}
}

// TestNodeDelivery: two nodes sharing the trail store each deliver their own records into the
// trail's bucket, with their own cursor and their own digest chain: no record is lost or
// delivered twice, no key is written by both, each chain links and verifies, a node restarted
// on its directory continues its chain, and StopLogging through one node ends both chains with
// a final digest (the other's when it next delivers).
func TestNodeDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCluster(t)
	const idA, idB = "0a0a0a0a0a0a0a0a", "0b0b0b0b0b0b0b0b"
	dirA, dirB := filepath.Join(t.TempDir(), "audit"), filepath.Join(t.TempDir(), "audit")
	a := c.start(t, idA, dirA, audittest.NewSealer())
	b := c.start(t, idB, dirB, audittest.NewSealer())

	if _, err := a.svc.Create(ctx, trailAccount, trail.CreateInput{Name: "main", S3BucketName: trailBucket, EnableLogFileValidation: true}); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.StartLogging(ctx, trailAccount, "main"); err != nil {
		t.Fatal(err)
	}
	c.clk.Add(time.Minute)
	audittest.Record(t, a.w, 0, 5)
	audittest.Record(t, b.w, 1000, 3)
	a.deliver(t, true)
	b.deliver(t, true)

	c.clk.Add(time.Minute)
	audittest.Record(t, a.w, 5, 2)
	audittest.Record(t, b.w, 1003, 3)
	b.deliver(t, true)
	a.deliver(t, true)

	// Node A restarts on its directory: it continues its own chain from its own cursor.
	if err := a.w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	a = c.start(t, idA, dirA, a.sealer)
	c.clk.Add(time.Minute)
	audittest.Record(t, a.w, 7, 2)
	a.deliver(t, true)

	// StopLogging through B ends B's chain at once and A's at its next round.
	c.clk.Add(time.Minute)
	audittest.Record(t, a.w, 9, 1)
	if err := a.w.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.StopLogging(ctx, trailAccount, "main"); err != nil {
		t.Fatal(err)
	}
	c.clk.Add(time.Minute)
	audittest.Record(t, a.w, 10, 1) // after StopLoggingTime: not delivered
	a.deliver(t, false)

	stored, err := newNode(t, c.url).Get(ctx, trailAccount, "main")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Delivery.Cursor != "" || len(stored.Deliveries) != 2 {
		t.Fatalf("stored delivery state: one-node %+v, per node %+v; want only the two nodes'", stored.Delivery, stored.Deliveries)
	}
	for id, e := range stored.Deliveries {
		if e.Closing || e.Until.IsZero() || e.Previous != nil || len(e.Pending) != 0 {
			t.Errorf("node %s: delivery state %+v after its final digest", id, e)
		}
	}

	listedBy := map[string]string{} // log file key -> the node whose digest lists it
	for _, n := range []struct {
		node *deliveryNode
		want []string
	}{
		{a, requestIDs(0, 10)},
		{b, requestIDs(1000, 1006)},
	} {
		digests, logs := verifyNodeChain(t, c.objects, n.node, 1)
		if len(digests) != 4 && n.node == a || len(digests) != 3 && n.node == b {
			t.Errorf("node %s: %d digests %v", n.node.id, len(digests), digests)
		}
		var got []string
		for _, key := range logs {
			if other, ok := listedBy[key]; ok {
				t.Errorf("log file %s is in the chains of nodes %s and %s", key, other, n.node.id)
			}
			listedBy[key] = n.node.id
			got = append(got, recordIDs(t, c.objects, key)...)
		}
		slices.Sort(got)
		if !slices.Equal(got, n.want) {
			t.Errorf("node %s: delivered records %v, want %v", n.node.id, got, n.want)
		}
	}
	for _, key := range keys(t, c.objects, "AWSLogs/"+trailAccount+"/CloudTrail/") {
		if _, ok := listedBy[key]; !ok {
			t.Errorf("log file %s is in no node's chain", key)
		}
	}
}

// TestNodeDeliveryNewSession: a node that delivers only after the trail was stopped and
// started again through another node ends its chain of the earlier session with a final
// digest holding its records of that session, and starts a new chain for the new one; its
// records made while the trail was stopped are delivered in neither.
func TestNodeDeliveryNewSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCluster(t)
	a := c.start(t, "0a0a0a0a0a0a0a0a", filepath.Join(t.TempDir(), "audit"), audittest.NewSealer())
	b := c.start(t, "0b0b0b0b0b0b0b0b", filepath.Join(t.TempDir(), "audit"), audittest.NewSealer())
	if _, err := a.svc.Create(ctx, trailAccount, trail.CreateInput{Name: "main", S3BucketName: trailBucket, EnableLogFileValidation: true}); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.StartLogging(ctx, trailAccount, "main"); err != nil {
		t.Fatal(err)
	}
	b.deliver(t, false) // B joins the session
	c.clk.Add(time.Minute)
	audittest.Record(t, b.w, 0, 2)
	if err := b.w.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	c.clk.Add(time.Minute)
	if err := a.svc.StopLogging(ctx, trailAccount, "main"); err != nil {
		t.Fatal(err)
	}
	c.clk.Add(time.Minute)
	audittest.Record(t, b.w, 2, 1) // while stopped
	if err := b.w.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	c.clk.Add(time.Minute)
	if err := a.svc.StartLogging(ctx, trailAccount, "main"); err != nil {
		t.Fatal(err)
	}
	c.clk.Add(time.Minute)
	audittest.Record(t, b.w, 3, 2)
	b.deliver(t, true)

	digests, logs := verifyNodeChain(t, c.objects, b, 2)
	if len(digests) != 2 {
		t.Fatalf("node B's digests %v, want the final one of the first session and one of the second", digests)
	}
	var got []string
	for _, key := range logs {
		got = append(got, recordIDs(t, c.objects, key)...)
	}
	slices.Sort(got)
	if want := append(requestIDs(0, 2), requestIDs(3, 5)...); !slices.Equal(got, want) {
		t.Fatalf("node B delivered %v, want %v", got, want)
	}
}

func requestIDs(from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ids = append(ids, audittest.Event(i).RequestID)
	}
	slices.Sort(ids)
	return ids
}

// verifyNodeChain checks node's digests in the bucket, oldest first: each signed by the node's
// key and naming its own key, each listed log file of the hash the digest gives, and each one
// either starting a chain or linked to the one before; as many chains start as the node had
// logging sessions (chains). It returns the digests' keys and the log files they list.
func verifyNodeChain(t *testing.T, objects *object.Service, node *deliveryNode, chains int) (digests, logs []string) {
	t.Helper()
	pub, err := x509.ParsePKCS1PublicKey(node.signer.PublicKey().DER)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys(t, objects, "AWSLogs/"+trailAccount+"/CloudTrail-Digest/") {
		if strings.Contains(key, "_"+node.id+"_") {
			digests = append(digests, key)
		}
	}
	var prevKey, prevSum, prevSig string
	for i, key := range digests {
		body, meta := get(t, objects, key)
		var d audit.Digest
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("digest %s: %v", key, err)
		}
		sum := sha256.Sum256(body)
		sig, err := hex.DecodeString(meta["signature"])
		if err != nil {
			t.Fatalf("digest %s: signature %q", key, meta["signature"])
		}
		h := sha256.Sum256([]byte(audit.StringToSign(&d, sum[:])))
		if d.DigestS3Object != key || d.DigestPublicKeyFingerprint != node.signer.PublicKey().Fingerprint ||
			rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) != nil {
			t.Fatalf("node %s: digest %s (names %s, key %s) does not verify", node.id, key, d.DigestS3Object, d.DigestPublicKeyFingerprint)
		}
		if d.PreviousDigestS3Object == nil {
			chains--
		} else if i == 0 || *d.PreviousDigestS3Object != prevKey || *d.PreviousDigestHashValue != prevSum || *d.PreviousDigestSignature != prevSig {
			t.Fatalf("node %s: digest %s does not link to %q", node.id, key, prevKey)
		}
		for _, lf := range d.LogFiles {
			b, _ := get(t, objects, lf.S3Object)
			if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != lf.HashValue {
				t.Fatalf("node %s: log file %s does not hash to what digest %s says", node.id, lf.S3Object, key)
			}
			logs = append(logs, lf.S3Object)
		}
		prevKey, prevSum, prevSig = key, hex.EncodeToString(sum[:]), meta["signature"]
	}
	if chains != 0 {
		t.Fatalf("node %s: digests %v start %d chains more or fewer than expected", node.id, digests, chains)
	}
	return digests, logs
}

// recordIDs are the request ids of the records of the delivered log file at key.
func recordIDs(t *testing.T, objects *object.Service, key string) []string {
	t.Helper()
	body, _ := get(t, objects, key)
	var f struct{ Records []struct{ RequestID string } }
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatalf("log file %s: %v", key, err)
	}
	var ids []string
	for _, r := range f.Records {
		ids = append(ids, r.RequestID)
	}
	return ids
}

// keys lists the bucket's keys under prefix.
func keys(t *testing.T, objects *object.Service, prefix string) []string {
	t.Helper()
	var out []string
	in := object.ListInput{Prefix: prefix, MaxKeys: 1000}
	for {
		page, err := objects.List(context.Background(), trailBucket, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			out = append(out, o.Key)
		}
		if !page.Truncated {
			return out
		}
		in.After = page.Last
	}
}

// get reads the gzipped object at key, uncompressed, and its user metadata.
func get(t *testing.T, objects *object.Service, key string) ([]byte, map[string]string) {
	t.Helper()
	o, rd, err := objects.OpenObject(context.Background(), trailBucket, key, secret.Key{})
	if err != nil {
		t.Fatalf("object %s: %v", key, err)
	}
	defer rd.Close()
	zr, err := gzip.NewReader(io.NewSectionReader(rd, 0, rd.Size()))
	if err != nil {
		t.Fatalf("object %s: %v", key, err)
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, zr); err != nil {
		t.Fatalf("object %s: %v", key, err)
	}
	return b.Bytes(), o.UserMeta
}
