package objectkeys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/object"
)

// kmsCall is one KMS call S3 makes on a requester's behalf, as its record shows it.
type kmsCall struct {
	name   string         // GenerateDataKey, Decrypt, Encrypt
	params map[string]any // requestParameters: key, encryption context, key spec or algorithm
	keys   kms.KeysUsed   // the keys the call resolved (filled by the KMS)
}

// newCall starts the record of a KMS call and returns the context to make it with, which
// collects the keys the KMS resolves.
func newCall(ctx context.Context, name string, params map[string]any) (*kmsCall, context.Context) {
	kc := &kmsCall{name: name, params: params}
	return kc, kms.WithKeysUsed(ctx, &kc.keys)
}

// record keeps the record of a KMS call S3 made for the requester of ctx (the wire layer's
// request identity, or c when there is none), invoked by S3, before S3 goes on with the
// result. callErr is the call's outcome; a failure to record fails the S3 request.
func (k *Keys) record(ctx context.Context, c object.Caller, kc *kmsCall, callErr error) error {
	r := iam.RequestFrom(ctx)
	if r == nil || r.Principal.ARN != c.ARN {
		r = &iam.Request{Principal: iam.Principal{AccountID: c.Account, ARN: c.ARN, Type: iam.PrincipalUser}, Time: time.Now(), Region: k.kms.Region()}
	}
	e := audit.NewEvent(r, audit.SourceKMS, kc.name).InvokedBy(audit.InvokedByS3)
	e.EventID = audit.NewEventID()
	e.AWSRegion = k.kms.Region()
	e.ReadOnly = true // GenerateDataKey, Decrypt and Encrypt change no key
	e.RequestParameters = kc.params
	e.Resources = kms.KeyResources(kc.keys.ARNs)
	if callErr != nil {
		e.Fail(exceptionName(callErr))
	}
	if err := k.audit.Record(ctx, e); err != nil {
		return fmt.Errorf("objectkeys: recording %s: %w", kc.name, err)
	}
	if callErr == nil {
		k.kms.NoteUse(kc.keys.ARNs, kc.name, r.Time, e.EventID, r.RequestID)
	}
	return nil
}

// exceptionName returns the KMS exception a failed call answers, and its message.
func exceptionName(err error) (string, string) {
	var ke *kms.Error
	if errors.As(err, &ke) {
		for _, x := range exceptions {
			if errors.Is(ke.Kind, x.class) {
				return x.name, ke.Message
			}
		}
		switch {
		case errors.Is(ke.Kind, kms.ErrInvalidCiphertext):
			return "InvalidCiphertextException", ke.Message
		case errors.Is(ke.Kind, kms.ErrIncorrectKey):
			return "IncorrectKeyException", ke.Message
		}
	}
	return "KMSInternalException", "An internal error occurred."
}

// encryptionContext copies ec for a record: the object layer's map is its own.
func encryptionContext(ec map[string]string) map[string]string {
	out := make(map[string]string, len(ec))
	for k, v := range ec {
		out[k] = v
	}
	return out
}
