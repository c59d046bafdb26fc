package migrate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coffer/coffer/internal/blob/bloburl"
	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/iam/pgiam"
	ckms "github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/pgkms"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/meta/boltmeta"
	"github.com/coffer/coffer/internal/meta/pgmeta"
	"github.com/coffer/coffer/internal/migrate"
	"github.com/coffer/coffer/internal/pgtest"
	"github.com/coffer/coffer/internal/server"
	"github.com/coffer/coffer/internal/trail/pgtrail"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	rootAccessKey = "AKIAMIGRATETEST00001"
	rootSecretKey = "migrate-test-secret-key-0123456789abcdef"
)

// node is a running server and an AWS config for it.
type node struct {
	srv *server.Server
	cfg aws.Config
}

// startNode runs a real server on dir (with the KMS root key file rootKey, "" for
// DIR/kms/root.key) on loopback.
func startNode(t *testing.T, dir, rootKey string) *node {
	t.Helper()
	srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", AccessKey: rootAccessKey, SecretKey: rootSecretKey,
		KMSRootKeyFile: rootKey})
	if err != nil {
		t.Fatal(err)
	}
	<-srv.Swept()
	pem, err := os.ReadFile(srv.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	addr := strings.TrimPrefix(srv.URL, "https://")
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	return &node{srv: srv, cfg: aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(rootAccessKey, rootSecretKey, ""),
		HTTPClient:       &http.Client{Transport: tr},
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}}
}

func (n *node) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func (n *node) s3() *s3.Client {
	return s3.NewFromConfig(n.cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// made is what the first server made, to be found again after the migrations.
type made struct {
	objects    map[string][]byte // key in bucket "data" → plaintext
	keyID      string
	ciphertext []byte // KMS Encrypt of plaintextKMS under keyID, with encryptionContext
}

var (
	plaintextKMS      = []byte("a secret the KMS sealed before the migration")
	encryptionContext = map[string]string{"app": "migrate"}
)

// populate makes, through the real APIs: objects SSE-S3 (inline and blob-sized), SSE-KMS and
// multipart, an unfinished multipart upload, a KMS key with an alias and a grant and a
// ciphertext, an IAM user with an access key and an inline policy, and a trail.
func populate(t *testing.T, n *node) made {
	t.Helper()
	ctx := context.Background()
	sc, kc, ic := n.s3(), kms.NewFromConfig(n.cfg), iam.NewFromConfig(n.cfg)
	m := made{objects: map[string][]byte{}}
	key := must[*kms.CreateKeyOutput](t)(kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("migrated")}))
	m.keyID = *key.KeyMetadata.KeyId
	must[*kms.CreateAliasOutput](t)(kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/migrated"), TargetKeyId: key.KeyMetadata.KeyId}))
	must[*kms.CreateGrantOutput](t)(kc.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: key.KeyMetadata.KeyId,
		GranteePrincipal: aws.String("arn:aws:iam::" + accountOf(t, n) + ":root"), Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}}))
	enc := must[*kms.EncryptOutput](t)(kc.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: plaintextKMS, EncryptionContext: encryptionContext}))
	m.ciphertext = enc.CiphertextBlob

	must[*s3.CreateBucketOutput](t)(sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}))
	put := func(name string, size int, sse s3types.ServerSideEncryption, kmsKey *string) {
		body := make([]byte, size)
		_, _ = rand.Read(body)
		must[*s3.PutObjectOutput](t)(sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(name),
			Body: bytes.NewReader(body), ServerSideEncryption: sse, SSEKMSKeyId: kmsKey}))
		m.objects[name] = body
	}
	put("small-sse-s3", 100, s3types.ServerSideEncryptionAes256, nil)
	put("big-sse-s3", 300<<10, s3types.ServerSideEncryptionAes256, nil)
	put("sse-kms", 200<<10, s3types.ServerSideEncryptionAwsKms, key.KeyMetadata.KeyId)

	up := must[*s3.CreateMultipartUploadOutput](t)(sc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("data"),
		Key: aws.String("multipart"), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: key.KeyMetadata.KeyId}))
	var whole []byte
	var done []s3types.CompletedPart
	for i, size := range []int{5 << 20, 1000} {
		part := make([]byte, size)
		_, _ = rand.Read(part)
		whole = append(whole, part...)
		p := must[*s3.UploadPartOutput](t)(sc.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("data"), Key: aws.String("multipart"),
			UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(part)}))
		done = append(done, s3types.CompletedPart{ETag: p.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	must[*s3.CompleteMultipartUploadOutput](t)(sc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("data"),
		Key: aws.String("multipart"), UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: done}}))
	m.objects["multipart"] = whole
	open := must[*s3.CreateMultipartUploadOutput](t)(sc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("data"), Key: aws.String("unfinished")}))
	must[*s3.UploadPartOutput](t)(sc.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("data"), Key: aws.String("unfinished"),
		UploadId: open.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part one"))}))

	must[*iam.CreateUserOutput](t)(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("Alice")}))
	must[*iam.CreateAccessKeyOutput](t)(ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("Alice")}))
	must[*iam.PutUserPolicyOutput](t)(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("Alice"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}))

	account := accountOf(t, n)
	must[*s3.CreateBucketOutput](t)(sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-logs")}))
	must[*s3.PutBucketPolicyOutput](t)(sc.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("trail-logs"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::trail-logs"},
	 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::trail-logs/AWSLogs/` + account + `/*",
	  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`)}))
	must[*cloudtrail.CreateTrailOutput](t)(cloudtrail.NewFromConfig(n.cfg).CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String("everything"), S3BucketName: aws.String("trail-logs")}))
	return m
}

// check reads every object back (plaintext equal) and decrypts the ciphertext made before.
func check(t *testing.T, n *node, m made) {
	t.Helper()
	ctx := context.Background()
	sc := n.s3()
	for name, want := range m.objects {
		out := must[*s3.GetObjectOutput](t)(sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(name)}))
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("object %s after the migrations: %d bytes (want %d), %v", name, len(got), len(want), err)
		}
	}
	dec := must[*kms.DecryptOutput](t)(kms.NewFromConfig(n.cfg).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: m.ciphertext, EncryptionContext: encryptionContext}))
	if !bytes.Equal(dec.Plaintext, plaintextKMS) || *dec.KeyId == "" || !strings.HasSuffix(*dec.KeyId, m.keyID) {
		t.Fatalf("KMS Decrypt after the migrations: %q under %s", dec.Plaintext, *dec.KeyId)
	}
	ups := must[*s3.ListMultipartUploadsOutput](t)(sc.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("data")}))
	if len(ups.Uploads) != 1 || *ups.Uploads[0].Key != "unfinished" {
		t.Fatalf("uploads after the migrations: %+v", ups.Uploads)
	}
	keys := must[*iam.ListAccessKeysOutput](t)(iam.NewFromConfig(n.cfg).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("Alice")}))
	if len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("Alice's access keys after the migrations: %+v", keys.AccessKeyMetadata)
	}
	trails := must[*cloudtrail.DescribeTrailsOutput](t)(cloudtrail.NewFromConfig(n.cfg).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}))
	if len(trails.TrailList) != 1 || *trails.TrailList[0].Name != "everything" {
		t.Fatalf("trails after the migrations: %+v", trails.TrailList)
	}
}

// checkStores reads the copy in PostgreSQL through the PostgreSQL stores (whose columns
// beside the records the migration derived): the KMS opens the key made before with its
// shred slot in pgkms.Shredder and decrypts the ciphertext, and the uploads, aliases, access
// keys and trails are found by the stores' own lookups.
func checkStores(t *testing.T, url, rootKeyFile, account string, m made) {
	t.Helper()
	ctx := context.Background()
	root, err := ckms.OpenFileRootKey(rootKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	keys := pgtest.OpenStore(t, url, pgkms.New)
	shred := pgtest.OpenStore(t, url, func(ctx context.Context, p *pgxpool.Pool) (*pgkms.Shredder, error) {
		return pgkms.NewShredder(ctx, p, root)
	})
	svc, err := ckms.New(ckms.Config{Store: keys, Root: root, Region: "us-east-1", Shredder: shred})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.CheckRoot(ctx); err != nil {
		t.Fatal(err)
	}
	dec, err := svc.Decrypt(ctx, ckms.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":root"},
		ckms.DecryptInput{CiphertextBlob: m.ciphertext, EncryptionContext: encryptionContext})
	if err != nil || !bytes.Equal(dec.Plaintext, plaintextKMS) {
		t.Fatalf("Decrypt through pgkms: %v", err)
	}
	if aliases, err := keys.ListAliases(ctx, account, "", 0); err != nil || !slices.ContainsFunc(aliases, func(a ckms.Alias) bool { return a.Name == "alias/migrated" && a.KeyID == m.keyID }) {
		t.Fatalf("pgkms aliases: %+v, %v", aliases, err)
	}
	objects := pgtest.OpenStore(t, url, pgmeta.New)
	if ups, err := objects.ListUploads(ctx, "data", meta.ListOptions{}, ""); err != nil || len(ups) != 1 || ups[0].Key != "unfinished" {
		t.Fatalf("pgmeta uploads: %+v, %v", ups, err)
	}
	if o, err := objects.GetObject(ctx, "data", "small-sse-s3"); err != nil || o.Size != int64(len(m.objects["small-sse-s3"])) {
		t.Fatalf("pgmeta object with inline bytes: %+v, %v", o, err)
	}
	ids := pgtest.OpenStore(t, url, pgiam.New)
	if ks, err := ids.ListAccessKeys(ctx, account, "alice"); err != nil || len(ks) != 1 {
		t.Fatalf("pgiam access keys of Alice: %+v, %v", ks, err)
	}
	trails := pgtest.OpenStore(t, url, pgtrail.New)
	if ts, err := trails.List(ctx, account); err != nil || len(ts) != 1 {
		t.Fatalf("pgtrail trails: %+v, %v", ts, err)
	}
}

func accountOf(t *testing.T, n *node) string {
	t.Helper()
	return n.srv.Identity.AccountID
}

// TestRoundTrip: a real server's directory goes to PostgreSQL and a file:// blob store and
// back into a new directory, each copy verified; a server on the new directory, given the same
// KMS root key file and credentials.json, serves the objects and the KMS key made before.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	n := startNode(t, dir, "")
	m := populate(t, n)
	n.stop(t)
	intents := recordIntents(t, dir)

	url, blobDir := pgtest.NewDatabase(t), t.TempDir()
	blobURL := "file://" + blobDir
	rep, err := migrate.ToShared(ctx, dir, url, blobURL, log)
	if err != nil {
		t.Fatalf("to PostgreSQL: %v; %v", err, rep.Differences)
	}
	got, err := pgtest.OpenStore(t, url, pgmeta.New).ListIntents(ctx, time.Now().Add(time.Hour), 0)
	if err != nil || !slices.Equal(got, intents) {
		t.Fatalf("intents in PostgreSQL = %+v, %v; want %+v", got, err, intents)
	}
	for kind, least := range map[migrate.Kind]int{migrate.KindBucket: 2, migrate.KindBucketPolicy: 1, migrate.KindObject: 4,
		migrate.KindObjectData: 1, migrate.KindUpload: 1, migrate.KindPart: 1, migrate.KindKMSKey: 2, migrate.KindKMSAlias: 1,
		migrate.KindKMSGrant: 1, migrate.KindKMSSetting: 1, migrate.KindShredSlot: 1, migrate.KindIAMAccount: 1,
		migrate.KindIAMUser: 1, migrate.KindIAMKey: 1, migrate.KindIAMInline: 1, migrate.KindTrail: 1} {
		if rep.Records[kind] < least {
			t.Errorf("%d records of kind %q, want at least %d", rep.Records[kind], kind, least)
		}
	}
	if rep.Blobs < 4 || rep.Copied != rep.Blobs || rep.Kept != 0 {
		t.Errorf("blobs: %d, copied %d, kept %d", rep.Blobs, rep.Copied, rep.Kept)
	}
	if rep, err := migrate.Verify(ctx, dir, url, blobURL, log); err != nil {
		t.Fatalf("verify: %v; %v", err, rep.Differences)
	}
	if _, err := migrate.ToShared(ctx, dir, url, blobURL, log); !errors.Is(err, migrate.ErrNotEmpty) {
		t.Fatalf("to a PostgreSQL that holds records: %v, want ErrNotEmpty", err)
	}
	checkStores(t, url, filepath.Join(dir, "kms", "root.key"), accountOf(t, n), m)

	back := filepath.Join(t.TempDir(), "back")
	if rep, err := migrate.ToEmbedded(ctx, url, blobURL, back, log); err != nil {
		t.Fatalf("back to a directory: %v; %v", err, rep.Differences)
	}
	if _, err := migrate.ToEmbedded(ctx, url, blobURL, back, log); !errors.Is(err, migrate.ErrNotEmpty) {
		t.Fatalf("to a directory that holds meta.db: %v, want ErrNotEmpty", err)
	}
	if rep, err := migrate.Verify(ctx, back, url, blobURL, log); err != nil {
		t.Fatalf("verify the directory made: %v; %v", err, rep.Differences)
	}
	// What the operator carries over: credentials.json, and the root key file (given by flag).
	creds, err := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(back, "credentials.json"), creds, 0o600); err != nil {
		t.Fatal(err)
	}
	again := startNode(t, back, filepath.Join(dir, "kms", "root.key"))
	defer again.stop(t)
	check(t, again, m)
}

// recordIntents records in the stopped server's meta.db a write intent and a freed one, as an
// interrupted write and a deferred free (object.Config.Shared) leave them, and returns them
// as ListIntents gives them.
func recordIntents(t *testing.T, dir string) []meta.Intent {
	t.Helper()
	db, err := boltmeta.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := boltmeta.New(db)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Unix(1700000000, 123456789).UTC()
	intents := []meta.Intent{
		{Blob: "o/00/freed", Bucket: "data", Key: "overwritten", Created: created, Kind: meta.IntentFreed},
		{Blob: "p/00/interrupted", Bucket: "data", Key: "unfinished", UploadID: "u", Created: created},
	}
	for _, in := range intents {
		if err := s.RecordIntent(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	return intents
}

// TestVerifyFindsChanges: one changed byte of one blob at the destination fails Verify,
// which names the blob; so do a changed record and a missing one.
func TestVerifyFindsChanges(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	n := startNode(t, dir, "")
	populateObject(t, n)
	n.stop(t)
	url, blobDir := pgtest.NewDatabase(t), t.TempDir()
	if rep, err := migrate.ToShared(ctx, dir, url, "file://"+blobDir, log); err != nil {
		t.Fatalf("to PostgreSQL: %v; %v", err, rep.Differences)
	}
	var changed string
	err := filepath.WalkDir(blobDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || changed != "" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 100 {
			return err
		}
		b[len(b)/2] ^= 1
		changed = d.Name()
		return os.WriteFile(p, b, 0o600)
	})
	if err != nil || changed == "" {
		t.Fatalf("no blob file to change: %v", err)
	}
	rep, err := migrate.Verify(ctx, dir, url, "file://"+blobDir, log)
	if !errors.Is(err, migrate.ErrDiffers) || len(rep.Differences) != 1 || !strings.Contains(rep.Differences[0], changed) {
		t.Fatalf("verify after a changed byte of blob %s: %v, %q", changed, err, rep.Differences)
	}

	// A changed record and a missing one are found too, each named.
	pool := pgtest.OpenPool(t, url)
	if _, err := pool.Exec(ctx, "UPDATE s3_objects SET rec = rec || '\\x20'::bytea WHERE key = 'k'"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "DELETE FROM kms_usage"); err != nil {
		t.Fatal(err)
	}
	rep, err = migrate.Verify(ctx, dir, url, "file://"+blobDir, log)
	want := []string{`s3 object ("one", "k"): differs`, "kms key usage", "only in " + dir}
	if !errors.Is(err, migrate.ErrDiffers) || len(rep.Differences) < 3 || !containsAll(strings.Join(rep.Differences, "\n"), want) {
		t.Fatalf("verify after a changed object record and removed usage: %v, %q", err, rep.Differences)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// populateObject makes one bucket with one object of blob size.
func populateObject(t *testing.T, n *node) {
	t.Helper()
	ctx := context.Background()
	sc := n.s3()
	must[*s3.CreateBucketOutput](t)(sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("one")}))
	body := make([]byte, 200<<10)
	_, _ = rand.Read(body)
	must[*s3.PutObjectOutput](t)(sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("one"), Key: aws.String("k"), Body: bytes.NewReader(body)}))
}

// TestResumesOnlyItsOwnBlobs: blobs already in the destination store that equal the source's
// (what a run interrupted before its records committed leaves) are kept, not copied again;
// a blob the source has not is refused before anything is written.
func TestResumesOnlyItsOwnBlobs(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	n := startNode(t, dir, "")
	populateObject(t, n)
	n.stop(t)
	blobURL := "file://" + t.TempDir()
	firstURL := pgtest.NewDatabase(t)
	first, err := migrate.ToShared(ctx, dir, firstURL, blobURL, log)
	if err != nil || first.Copied == 0 {
		t.Fatalf("to PostgreSQL: %v, %d blobs copied; %v", err, first.Copied, first.Differences)
	}
	// A meta.db without records (a run back interrupted before its transaction committed).
	back := t.TempDir()
	db, err := boltfile.Open(filepath.Join(back, "meta.db"), server.TopBuckets())
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if rep, err := migrate.ToEmbedded(ctx, firstURL, blobURL, back, log); err != nil {
		t.Fatalf("back into a directory with an empty meta.db: %v; %v", err, rep.Differences)
	}
	again, err := migrate.ToShared(ctx, dir, pgtest.NewDatabase(t), blobURL, log)
	if err != nil || again.Copied != 0 || again.Kept != first.Copied {
		t.Fatalf("again into a new database, blobs in place: %v, copied %d, kept %d (want 0, %d)", err, again.Copied, again.Kept, first.Copied)
	}
	blobs, err := bloburl.Open(ctx, blobURL, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blobs.Put(ctx, "o/zz/foreign", strings.NewReader("not the source's")); err != nil {
		t.Fatal(err)
	}
	url := pgtest.NewDatabase(t)
	if _, err := migrate.ToShared(ctx, dir, url, blobURL, log); !errors.Is(err, migrate.ErrNotEmpty) || !strings.Contains(err.Error(), "o/zz/foreign") {
		t.Fatalf("to a blob store holding another blob: %v, want ErrNotEmpty naming it", err)
	}
}

// TestRefusesRunningServer: the directory of a running server (which holds meta.db's lock) is
// refused, and nothing is written to the destination.
func TestRefusesRunningServer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n := startNode(t, dir, "")
	defer n.stop(t)
	url, blobDir := pgtest.NewDatabase(t), t.TempDir()
	_, err := migrate.ToShared(ctx, dir, url, "file://"+blobDir, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "is a server running") {
		t.Fatalf("migrating a running server's directory: %v", err)
	}
	if entries, _ := os.ReadDir(blobDir); len(entries) != 0 {
		t.Fatalf("the blob store was written to: %v", entries)
	}
}
