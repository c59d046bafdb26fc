package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/secret/secrettest"
)

// signedAs sends body to the endpoint's root, signed by the root user for service.
func (e *env) signedAs(t *testing.T, service, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx(t), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}, req,
		hex.EncodeToString(sum[:]), service, e.region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return e.do(t, req)
}

// TestAuditRecordsHoldNoSecretsOfOtherCalls: secrets sent to operations Coffer does not
// serve stay out of the records too — a custom key store's password and XKS proxy secret
// (CreateCustomKeyStore, unsupported: recorded, without them, as CloudTrail hides them), and
// whatever the body of an operation that does not exist holds (KMS, IAM's UploadServerCertificate
// with its private key: no CloudTrail event at all, as for CloudTrail's own unknown operations).
func TestAuditRecordsHoldNoSecretsOfOtherCalls(t *testing.T) {
	e := startServer(t)
	secrets := map[string][]byte{
		"key store password":        []byte("known-keystore-password-0451"),
		"XKS raw secret access key": []byte("known-xks-proxy-raw-secret-access-key-0451"),
		"unknown KMS op's secret":   []byte("known-secret-of-an-unknown-kms-operation"),
		"server certificate key":    []byte("known-private-key-of-a-server-certificate"),
	}
	_, err := e.kmsAs(rootCreds).CreateCustomKeyStore(ctx(t), &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("xks"),
		CustomKeyStoreType: kmstypes.CustomKeyStoreTypeExternalKeyStore, KeyStorePassword: aws.String(string(secrets["key store password"])),
		XksProxyAuthenticationCredential: &kmstypes.XksProxyAuthenticationCredentialType{AccessKeyId: aws.String("XKSPROXYACCESSKEY0451"),
			RawSecretAccessKey: aws.String(string(secrets["XKS raw secret access key"]))}})
	if err == nil {
		t.Fatal("CreateCustomKeyStore succeeded")
	}
	resp := e.signedAs(t, "kms", `{"KeyId":"alias/x","SecretThing":"`+string(secrets["unknown KMS op's secret"])+`"}`,
		map[string]string{"X-Amz-Target": "TrentService.ExportKeyMaterial", "Content-Type": "application/x-amz-json-1.1"})
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "UnknownOperationException") {
		t.Fatalf("unknown KMS operation: %d %s", resp.StatusCode, b)
	}
	form := url.Values{"Action": {"UploadServerCertificate"}, "Version": {"2010-05-08"}, "ServerCertificateName": {"web"},
		"CertificateBody": {"-----BEGIN CERTIFICATE-----"}, "PrivateKey": {string(secrets["server certificate key"])}}
	resp = e.signedAs(t, "iam", form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "InvalidAction") {
		t.Fatalf("unknown IAM action: %d %s", resp.StatusCode, b)
	}

	if len(e.auditEvents(t, audit.Filter{EventName: "CreateCustomKeyStore"})) != 1 {
		t.Error("CreateCustomKeyStore not recorded")
	}
	for _, name := range []string{"ExportKeyMaterial", "UploadServerCertificate"} {
		if evs := e.auditEvents(t, audit.Filter{EventName: name}); len(evs) != 0 {
			t.Errorf("a call of an operation that does not exist is recorded: %s", recordJSON(evs[0]))
		}
	}
	for _, ev := range e.auditEvents(t, audit.Filter{}) {
		secrettest.Scan(t, "record "+ev.EventName, []byte(recordJSON(ev)), secrets)
	}
	if err := e.srv.AuditDigest(ctx(t)); err != nil {
		t.Fatal(err)
	}
	secrettest.ScanDir(t, e.srv.AuditDir(), secrets, 4)
}

// TestAuditPresignedRequestsHoldNoSignatures: presigned GETs (SigV4 by a role session, so with
// its token in the query, and SigV2) are recorded with their query parameters, but never the
// signature, credential or session token the URL carries.
func TestAuditPresignedRequestsHoldNoSignatures(t *testing.T) {
	e := startServer(t)
	sel := &selectAll{}
	sel.on.Store(true)
	e.srv.AuditLog().SetDataSelector(sel)
	alice, _ := e.newUser(t, rootCreds, "alice")
	e.putUserPolicy(t, rootCreds, "alice", "all", allowAll)
	role := e.createRole(t, rootCreds, "App", trustPolicy(e.srv.Identity.AccountID))
	must[*iam.PutRolePolicyOutput](t)(e.iamAs(rootCreds).PutRolePolicy(ctx(t), &iam.PutRolePolicyInput{RoleName: aws.String("App"),
		PolicyName: aws.String("all"), PolicyDocument: aws.String(allowAll)}))
	sess, _, err := e.assumeRole(t, alice, role, "job", nil)
	if err != nil {
		t.Fatal(err)
	}
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("pre")}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("pre"), Key: aws.String("k"), Body: strings.NewReader("data")}))
	v4url := must[*s3PresignedRequest](t)(s3.NewPresignClient(e.s3As(sess)).PresignGetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("pre"),
		Key: aws.String("k"), ResponseContentType: aws.String("text/plain")}, s3.WithPresignExpires(time.Minute))).URL
	v2url := e.srv.URL + "/pre/k" + presignV2GetQuery("/pre/k")
	secrets := map[string][]byte{"session token": []byte(sess.Token)}
	for i, u := range []string{v4url, v2url} {
		q := must[*url.URL](t)(url.Parse(u)).Query()
		for _, p := range []string{"X-Amz-Signature", "X-Amz-Credential", "Signature"} {
			if v := q.Get(p); v != "" {
				secrets[fmt.Sprintf("%s of URL %d", p, i)] = []byte(v)
			}
		}
		resp := must[*http.Response](t)(e.http.Get(u))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	}
	gets := e.auditEvents(t, audit.Filter{EventName: "GetObject"})
	if len(gets) != 2 {
		t.Fatalf("%d GetObject records, want 2", len(gets))
	}
	for _, ev := range gets {
		if ev.AdditionalEventData["AuthenticationMethod"] != "QueryString" {
			t.Errorf("record %s", recordJSON(ev))
		}
		secrettest.Scan(t, "record "+ev.EventID, []byte(recordJSON(ev)), secrets)
	}
	if param(gets[1], "response-content-type") != "text/plain" {
		t.Errorf("the query parameters are not recorded: %s", recordJSON(gets[1]))
	}
}
