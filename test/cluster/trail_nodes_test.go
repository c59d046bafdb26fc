package cluster_test

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
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/server"
)

const trailBucket = "trail-logs"

// trailPolicy lets CloudTrail read the bucket's ACL and write under AWSLogs/.
const trailPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + trailBucket + `"},
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + trailBucket + `/AWSLogs/*",
  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`

// TestTrailOnThreeNodes: a trail created through node 1 gets the records of every node: each
// node delivers its own, at its shutdown (SIGTERM) or at StopLogging, with a digest chain of its
// own in the trail's bucket that links and verifies with the node's signing key; and `coffer
// audit verify` given the three nodes' data directories checks the three local chains.
func TestTrailOnThreeNodes(t *testing.T) {
	d := startDeployment(t, 3)
	ctx := context.Background()
	n1 := d.node(0)
	if _, err := n1.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(trailBucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(trailBucket), Policy: aws.String(trailPolicy)}); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(d.awsConfig(rootAccessKey, rootSecretKey), func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(d.nodes[0].url) })
	created, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String(trailBucket), EnableLogFileValidation: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	account := strings.Split(aws.ToString(created.TrailARN), ":")[4]
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	// A management event through each node: the creation of a bucket named after it.
	nodeIDs := make([]string, 3)
	for i := range 3 {
		if _, err := d.node(i).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(fmt.Sprintf("made-on-node-%d", i+1))}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(d.nodes[i].dir, "data", server.NodeIDFile))
		if err != nil {
			t.Fatal(err)
		}
		nodeIDs[i] = strings.TrimSpace(string(b))
	}
	// Nodes 2 and 3 deliver at their shutdown; node 1 at StopLogging.
	d.nodes[1].stop(t)
	d.nodes[2].stop(t)
	if _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")}); err != nil {
		t.Fatal(err)
	}

	for i, id := range nodeIDs {
		buckets := map[string]bool{}
		for _, lf := range verifyTrailChain(t, n1, account, id, filepath.Join(d.nodes[i].dir, "data", "audit")) {
			body, _ := getGunzipped(t, n1, lf)
			var f struct {
				Records []struct {
					EventName         string
					RequestParameters struct{ BucketName string }
				}
			}
			if err := json.Unmarshal(body, &f); err != nil {
				t.Fatalf("log file %s: %v", lf, err)
			}
			for _, r := range f.Records {
				// (The trail's bucket may be there too: a trail delivers from the second
				// StartLogging was in, as CloudTrail's event times are to the second.)
				if r.EventName == "CreateBucket" && strings.HasPrefix(r.RequestParameters.BucketName, "made-on-node-") {
					buckets[r.RequestParameters.BucketName] = true
				}
			}
		}
		if want := fmt.Sprintf("made-on-node-%d", i+1); len(buckets) != 1 || !buckets[want] {
			t.Errorf("node %d (%s): its chain holds the creation of buckets %v, want only %s", i+1, id, buckets, want)
		}
	}

	d.nodes[0].stop(t)
	args := []string{"audit", "verify"}
	for _, p := range d.nodes {
		args = append(args, "--data", filepath.Join(p.dir, "data"))
	}
	out, err := exec.Command(coffer(t), args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "total: 3 nodes, ") || !strings.Contains(string(out), " 0 findings, 0 nodes failed") {
		t.Fatalf("coffer %v: %v\n%s", args, err, out)
	}
	for _, id := range nodeIDs {
		if !strings.Contains(string(out), "node "+id+": ") {
			t.Errorf("coffer audit verify does not report node %s:\n%s", id, out)
		}
	}
}

// verifyTrailChain checks the digest chain of node id in the trail's bucket, oldest first: it
// starts a chain, each digest links to the one before and is signed by a key of the node's
// audit directory, and each listed log file hashes to what its digest says. It returns the
// log files the chain lists.
func verifyTrailChain(t *testing.T, c *s3.Client, account, id, auditDir string) (logs []string) {
	t.Helper()
	keys, err := audit.PublicKeys(auditDir)
	if err != nil {
		t.Fatal(err)
	}
	pub := map[string]*rsa.PublicKey{}
	for _, k := range keys {
		pk, err := x509.ParsePKCS1PublicKey(k.DER)
		if err != nil {
			t.Fatal(err)
		}
		pub[k.Fingerprint] = pk
	}
	var digests []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(trailBucket), Prefix: aws.String("AWSLogs/" + account + "/CloudTrail-Digest/")})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			if strings.Contains(aws.ToString(o.Key), "_"+id+"_") {
				digests = append(digests, aws.ToString(o.Key))
			}
		}
	}
	if len(digests) == 0 {
		t.Fatalf("node %s: no digest in the trail's bucket", id)
	}
	var prevKey, prevSum, prevSig string
	for i, key := range digests {
		body, meta := getGunzipped(t, c, key)
		var d audit.Digest
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("digest %s: %v", key, err)
		}
		sum := sha256.Sum256(body)
		sig, _ := hex.DecodeString(meta["signature"])
		h := sha256.Sum256([]byte(audit.StringToSign(&d, sum[:])))
		pk := pub[d.DigestPublicKeyFingerprint]
		if d.DigestS3Object != key || pk == nil || rsa.VerifyPKCS1v15(pk, crypto.SHA256, h[:], sig) != nil {
			t.Fatalf("node %s: digest %s does not verify with the node's keys", id, key)
		}
		if i == 0 && d.PreviousDigestS3Object != nil ||
			i > 0 && (d.PreviousDigestS3Object == nil || *d.PreviousDigestS3Object != prevKey || *d.PreviousDigestHashValue != prevSum || *d.PreviousDigestSignature != prevSig) {
			t.Fatalf("node %s: digest %s does not link to %q", id, key, prevKey)
		}
		for _, lf := range d.LogFiles {
			b, _ := getGunzipped(t, c, lf.S3Object)
			if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != lf.HashValue {
				t.Fatalf("node %s: log file %s does not hash to what digest %s says", id, lf.S3Object, key)
			}
			logs = append(logs, lf.S3Object)
		}
		prevKey, prevSum, prevSig = key, hex.EncodeToString(sum[:]), meta["signature"]
	}
	return logs
}

// getGunzipped reads the trail bucket's object at key, uncompressed, and its metadata.
func getGunzipped(t *testing.T, c *s3.Client, key string) ([]byte, map[string]string) {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(trailBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	zr, err := gzip.NewReader(out.Body)
	if err != nil {
		t.Fatalf("%s is not gzip: %v", key, err)
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, zr); err != nil {
		t.Fatalf("gunzip %s: %v", key, err)
	}
	return b.Bytes(), out.Metadata
}
