package integration

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/coffer/coffer/internal/secret/secrettest"
	"github.com/coffer/coffer/internal/server"
)

// startRoot runs a server on dir with the root key of the environment ak/sk ("" for none, as
// `coffer server` without COFFER_ACCESS_KEY), and returns it with a function that stops it.
func startRoot(t *testing.T, dir, ak, sk string) (*env, func()) {
	t.Helper()
	srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: ak, SecretKey: sk})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(c); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
	t.Cleanup(stop)
	e := &env{t: t, dir: dir, srv: srv, region: "us-east-1"}
	e.http = &http.Client{Transport: e.transport()}
	return e, stop
}

// wantRootKeyWorks checks that c signs S3, STS and IAM requests as the root of account, and
// that ListAccessKeys without a user name (the caller's keys) lists c's key.
func wantRootKeyWorks(t *testing.T, e *env, c creds, account string) {
	t.Helper()
	if _, err := e.s3As(c).ListBuckets(ctx(t), &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("ListBuckets as the root: %v", err)
	}
	who, err := e.stsAs(c).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::"+account+":root" {
		t.Fatalf("GetCallerIdentity = %+v, %v", who, err)
	}
	keys, err := e.iamAs(c).ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{})
	if err != nil {
		t.Fatalf("ListAccessKeys as the root: %v", err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == c.AccessKey && k.Status == "Active" {
			return
		}
	}
	t.Fatalf("ListAccessKeys as the root lacks its key %s: %+v", c.AccessKey, keys.AccessKeyMetadata)
}

// readCredentialsFile returns the fields of DIR/credentials.json.
func readCredentialsFile(t *testing.T, dir string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("credentials.json: %v", err)
	}
	return m
}

// TestRootKeyGeneratedSealed: on first start the root key is made, its secret shown once
// (Identity.GeneratedSecret) and stored only sealed: no file under the data directory holds
// it in any form, credentials.json names the account and key id only, and the key still signs
// after a restart, when its secret is not shown again.
func TestRootKeyGeneratedSealed(t *testing.T) {
	dir := t.TempDir()
	e, stop := startRoot(t, dir, "", "")
	id := e.srv.Identity
	if id.GeneratedSecret.IsZero() || id.AccessKey == "" {
		t.Fatalf("first start generated no root key: %+v", id)
	}
	sec := string(id.GeneratedSecret.RevealBytes())
	root := creds{id.AccessKey, sec, ""}
	wantRootKeyWorks(t, e, root, id.AccountID)
	e.s3 = e.client(root.AccessKey, root.Secret, nil)
	newBucket(t, e, "root-sealed")
	stop()

	file := readCredentialsFile(t, dir)
	if file["account_id"] != id.AccountID || file["access_key"] != id.AccessKey || len(file) != 2 {
		t.Fatalf("credentials.json = %v, want the account id and access key only", file)
	}
	secrettest.ScanDir(t, dir, map[string][]byte{"root secret key": []byte(sec)}, 4)

	e, _ = startRoot(t, dir, "", "")
	if !e.srv.Identity.GeneratedSecret.IsZero() || e.srv.Identity.AccessKey != id.AccessKey {
		t.Fatalf("second start: %+v", e.srv.Identity)
	}
	wantRootKeyWorks(t, e, root, id.AccountID)
	secrettest.ScanDir(t, dir, map[string][]byte{"root secret key": []byte(sec)}, 4)
}

// TestRootKeyMigration: a credentials.json from before root keys were sealed, holding
// secret_key, has its key moved into the store at start and the file rewritten without it; the
// key signs as before, also after a restart. A crash after the key was stored but before the
// file was rewritten (the old file back in place) is settled by the next start.
func TestRootKeyMigration(t *testing.T) {
	const (
		account = "210987654321"
		ak      = "AKLEGACYROOTKEY00001"
		sk      = "legacyRootSecretKey0123456789abcdefghijk"
	)
	dir := t.TempDir()
	old := `{"account_id": "` + account + `", "display_name": "legacy", "access_key": "` + ak + `", "secret_key": "` + sk + `"}` + "\n"
	writeOld := func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "credentials.json"), []byte(old), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	root := creds{ak, sk, ""}
	steps := []struct {
		name    string
		prepare func(t *testing.T)
	}{
		{"old file migrated", writeOld},
		{"restart", func(*testing.T) {}},
		{"crash between store and file", writeOld},
		{"restart after the crash", func(*testing.T) {}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.prepare(t)
			e, stop := startRoot(t, dir, "", "")
			if got := e.srv.Identity; got.AccountID != account || got.AccessKey != ak || !got.GeneratedSecret.IsZero() {
				t.Fatalf("identity %+v", got)
			}
			wantRootKeyWorks(t, e, root, account)
			stop()
			file := readCredentialsFile(t, dir)
			want := map[string]string{"account_id": account, "display_name": "legacy", "access_key": ak}
			if len(file) != len(want) || file["account_id"] != account || file["display_name"] != "legacy" || file["access_key"] != ak {
				t.Fatalf("credentials.json = %v, want %v", file, want)
			}
			secrettest.ScanDir(t, dir, map[string][]byte{"root secret key": []byte(sk)}, 4)
		})
	}
	t.Run("another secret for the stored key is refused", func(t *testing.T) {
		other := strings.Replace(old, sk, "anotherSecretKey0123456789abcdefghijklmn", 1)
		if err := os.WriteFile(filepath.Join(dir, "credentials.json"), []byte(other), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0"})
		if err == nil || !strings.Contains(err.Error(), "stored with another secret") {
			t.Fatalf("start = %v, want a refusal", err)
		}
	})
}

// TestRootKeyFromEnvironment: COFFER_ACCESS_KEY and COFFER_SECRET_KEY replace the stored root
// key for one run: the environment's key signs, the stored one is refused, and the
// environment's secret reaches no file; the next run without them uses the stored key again.
func TestRootKeyFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	e, stop := startRoot(t, dir, "", "")
	id := e.srv.Identity
	stored := creds{id.AccessKey, string(id.GeneratedSecret.RevealBytes()), ""}
	stop()

	const envKey, envSecret = "AKIAENVIRONMENTKEY01", "environmentSecretKey0123456789abcdefghij"
	e, stop = startRoot(t, dir, envKey, envSecret)
	if _, err := e.s3As(creds{envKey, envSecret, ""}).ListBuckets(ctx(t), &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("the environment's key: %v", err)
	}
	_, err := e.s3As(stored).ListBuckets(ctx(t), &s3.ListBucketsInput{})
	wantAPIError(t, err, "InvalidAccessKeyId", 403)
	stop()
	if file := readCredentialsFile(t, dir); file["access_key"] != id.AccessKey {
		t.Fatalf("credentials.json = %v, want the stored key %s still named", file, id.AccessKey)
	}
	secrettest.ScanDir(t, dir, map[string][]byte{"environment secret key": []byte(envSecret), "root secret key": []byte(stored.Secret)}, 4)

	e, _ = startRoot(t, dir, "", "")
	wantRootKeyWorks(t, e, stored, id.AccountID)
	_, err = e.s3As(creds{envKey, envSecret, ""}).ListBuckets(ctx(t), &s3.ListBucketsInput{})
	wantAPIError(t, err, "InvalidAccessKeyId", 403)
}

// TestRootKeyRotated: the root rotates its key through IAM as in AWS (a new key, then the
// first deleted); the next start serves with the new key, and names no root key of its own.
func TestRootKeyRotated(t *testing.T) {
	dir := t.TempDir()
	e, stop := startRoot(t, dir, "", "")
	id := e.srv.Identity
	first := creds{id.AccessKey, string(id.GeneratedSecret.RevealBytes()), ""}
	k, err := e.iamAs(first).CreateAccessKey(ctx(t), &iam.CreateAccessKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	second := creds{aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), ""}
	if _, err := e.iamAs(second).DeleteAccessKey(ctx(t), &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(first.AccessKey)}); err != nil {
		t.Fatal(err)
	}
	stop()

	e, _ = startRoot(t, dir, "", "")
	if got := e.srv.Identity; got.AccessKey != "" || got.AccountID != id.AccountID {
		t.Fatalf("identity after the rotation: %+v", got)
	}
	wantRootKeyWorks(t, e, second, id.AccountID)
	_, err = e.s3As(first).ListBuckets(ctx(t), &s3.ListBucketsInput{})
	wantAPIError(t, err, "InvalidAccessKeyId", 403)
}

// TestRootKeyNotMadeOnRefusedStart: a first start refused for a busy address makes no root key
// (whose secret nobody would see); the next start makes it and shows it.
func TestRootKeyNotMadeOnRefusedStart(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, err = server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", ListenHTTP: busy.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("start on a busy address = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "credentials.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("credentials.json after a refused first start: %v", err)
	}
	e, _ := startRoot(t, dir, "", "")
	id := e.srv.Identity
	wantRootKeyWorks(t, e, creds{id.AccessKey, string(id.GeneratedSecret.RevealBytes()), ""}, id.AccountID)
}
