package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/audit"
)

// secondAccount creates a second account and returns its id and its root user's credentials.
func (e *env) secondAccount(t *testing.T) (string, creds) {
	t.Helper()
	a, k, err := e.srv.CreateAccount(ctx(t), "second")
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, creds{k.ID, k.Secret, ""}
}

// TestAuditCrossAccountKeyUse: a key used from another account is an event of both accounts,
// as CloudTrail logs cross-account KMS calls in the caller's and the key owner's: the key's
// owner sees in LookupEvents who used its key (the promise of SSE-KMS's audit trail), the
// caller its own call; the two copies share a sharedEventID and have their own eventIDs.
func TestAuditCrossAccountKeyUse(t *testing.T) {
	e := startServer(t)
	acct1 := e.account(t, rootCreds)
	acct2, root2 := e.secondAccount(t)
	_, arn := e.keyWithPolicy(t, rootCreds, acct1,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct2+`:root"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}`)
	user2, _ := e.newUser(t, root2, "app")
	e.putUserPolicy(t, root2, "app", "use-key", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt"],"Resource":"`+arn+`"}]}`)
	must[*kms.EncryptOutput](t)(e.kmsAs(user2).Encrypt(ctx(t), &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("x")}))

	copies := map[string]audit.Event{}
	for _, who := range []struct {
		account string
		c       creds
	}{{acct1, rootCreds}, {acct2, root2}} {
		out := must[*cloudtrail.LookupEventsOutput](t)(e.cloudtrailAs(who.c).LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("Encrypt")}}}))
		var found []audit.Event
		for _, ev := range out.Events {
			var r audit.Event
			if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &r); err != nil {
				t.Fatal(err)
			}
			if r.UserIdentity.UserName == "app" {
				found = append(found, r)
			}
		}
		if len(found) != 1 {
			t.Fatalf("account %s sees %d records of app's Encrypt, want 1", who.account, len(found))
		}
		copies[who.account] = found[0]
	}
	owner, caller := copies[acct1], copies[acct2]
	if owner.RecipientAccountID != acct1 || caller.RecipientAccountID != acct2 || owner.UserIdentity.AccountID != acct2 ||
		owner.SharedEventID == "" || owner.SharedEventID != caller.SharedEventID || owner.EventID == caller.EventID {
		t.Errorf("the key owner's copy %+v\nthe caller's copy %+v", owner, caller)
	}
}

// selectAccount selects the data events of one account's trails.
type selectAccount struct{ account string }

func (s selectAccount) WantsData(account, _ string, _ bool) bool { return account == s.account }

// TestAuditCrossAccountDataEvent: an object written by another account into a bucket it may
// write is a data event of the writer's account too: when only the writer's trails select
// it, it is recorded, for both accounts.
func TestAuditCrossAccountDataEvent(t *testing.T) {
	e := startServer(t)
	acct1 := e.account(t, rootCreds)
	acct2, root2 := e.secondAccount(t)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("shared")}))
	must[*s3.PutBucketPolicyOutput](t)(e.s3.PutBucketPolicy(ctx(t), &s3.PutBucketPolicyInput{Bucket: aws.String("shared"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct2 + `:root"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::shared/*"}]}`)}))
	e.srv.AuditLog().SetDataSelector(selectAccount{acct2})
	must[*s3.PutObjectOutput](t)(e.s3As(root2).PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("k"), Body: strings.NewReader("x")}))
	for _, account := range []string{acct2, acct1} {
		evs := e.auditEvents(t, audit.Filter{EventName: "PutObject", Account: account})
		if len(evs) != 1 || evs[0].UserIdentity.AccountID != acct2 {
			t.Errorf("account %s: %d PutObject records, want the second account's one", account, len(evs))
		}
	}
}
