package kms

import (
	"context"

	"github.com/coffer/coffer/internal/audit"
)

// KeysUsed collects the keys a request resolved, for its audit record's resources: the key a
// caller named (by id, ARN or alias) or the key a ciphertext named, once found, whether the
// operation then succeeded or not. A wire layer puts one in the context of a request
// (WithKeysUsed) and reads it after the call.
type KeysUsed struct {
	ARNs []string
}

type keysUsedKey struct{}

// WithKeysUsed returns ctx carrying ku, which the service fills as it resolves keys.
func WithKeysUsed(ctx context.Context, ku *KeysUsed) context.Context {
	return context.WithValue(ctx, keysUsedKey{}, ku)
}

// noteKey adds a key's ARN to the request's KeysUsed, if it collects them.
func (s *Service) noteKey(ctx context.Context, arn string) {
	ku, _ := ctx.Value(keysUsedKey{}).(*KeysUsed)
	if ku == nil {
		return
	}
	for _, a := range ku.ARNs {
		if a == arn {
			return
		}
	}
	ku.ARNs = append(ku.ARNs, arn)
}

// KeyResources returns the resources element of the keys arns (AWS::KMS::Key, in the key's
// account), as CloudTrail lists them in KMS records.
func KeyResources(arns []string) []audit.Resource {
	if len(arns) == 0 {
		return nil
	}
	out := make([]audit.Resource, len(arns))
	for i, arn := range arns {
		out[i] = audit.Resource{AccountID: arnAccount(arn), Type: "AWS::KMS::Key", ARN: arn}
	}
	return out
}

// arnAccount returns the account field of an ARN.
func arnAccount(arn string) string {
	n := 0
	start := 0
	for i := 0; i < len(arn); i++ {
		if arn[i] != ':' {
			continue
		}
		n++
		switch n {
		case 4:
			start = i + 1
		case 5:
			return arn[start:i]
		}
	}
	return ""
}

// serviceEvent records something the KMS did by itself to key k (automatic rotation,
// deletion after the waiting period, expiry of imported material) as CloudTrail's
// AwsServiceEvent. The change is already made: a failure to record is logged, never undone.
func (s *Service) serviceEvent(ctx context.Context, k *Key, name string, details map[string]any) {
	e := audit.ServiceEvent(k.Account, s.region, audit.SourceKMS, name)
	arn := s.arn(k)
	e.Resources = KeyResources([]string{arn})
	e.ServiceEventDetails = details
	if name == "DeleteKey" {
		e.ResponseElements = map[string]any{"keyId": arn} // as CloudTrail's DeleteKey records since December 2022
	}
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "kms: recording a service event failed", "event", name, "key", arn, "err", err)
	}
}
