package kms

import (
	"context"
	"encoding/json"
	"fmt"
)

// maxPolicy is the key policy quota (32 KB), beyond which AWS answers LimitExceeded.
const maxPolicy = 32768

// defaultPolicy is AWS's default key policy, formatted as GetKeyPolicy returns it.
func defaultPolicy(partition, account string) string {
	return fmt.Sprintf(`{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:%s:iam::%s:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`, partition, account)
}

// validatePolicy checks a key policy's size, characters and shape. Evaluation comes with the
// policy engine; until then a policy only has to be a well-formed policy document.
func validatePolicy(p string) error {
	if len(p) > maxPolicy {
		return errf(ErrLimitExceeded, "Policy exceeds the maximum size of 32768 bytes.")
	}
	for _, r := range p {
		if !(r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xFF)) {
			return errf(ErrMalformedPolicy, "The key policy contains a character that is not allowed.")
		}
	}
	var doc struct {
		Version   string
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(p), &doc); err != nil {
		return errf(ErrMalformedPolicy, "The new key policy will not allow you to update the key policy in the future.")
	}
	if doc.Version != "" && doc.Version != "2012-10-17" && doc.Version != "2008-10-17" {
		return errf(ErrMalformedPolicy, "The policy version is not supported.")
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(doc.Statement, &stmts); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(doc.Statement, &one); err != nil || one == nil {
			return errf(ErrMalformedPolicy, "The policy must contain a Statement.")
		}
		stmts = append(stmts, one)
	}
	if len(stmts) == 0 {
		return errf(ErrMalformedPolicy, "The policy must contain a Statement.")
	}
	for _, st := range stmts {
		var effect string
		if err := json.Unmarshal(st["Effect"], &effect); err != nil || (effect != "Allow" && effect != "Deny") {
			return errf(ErrMalformedPolicy, "Policy statement has an invalid Effect.")
		}
	}
	return nil
}

// GetKeyPolicy returns a key's policy; policyName must be "" or "default".
func (s *Service) GetKeyPolicy(ctx context.Context, c Caller, keyID, policyName string) (string, error) {
	if policyName != "" && policyName != "default" {
		return "", errf(ErrNotFound, "No such policy exists")
	}
	e, err := s.resolve(ctx, c, keyID, optsKeyOnly)
	if err != nil {
		return "", err
	}
	return e.key.Policy, nil
}

// PutKeyPolicy replaces a key's policy. Unless bypass is set the new policy must pass the
// lockout safety check.
func (s *Service) PutKeyPolicy(ctx context.Context, c Caller, keyID, policyName, policy string, bypass bool) error {
	if policyName != "" && policyName != "default" {
		return errf(ErrNotFound, "No such policy exists")
	}
	if policy == "" {
		return errConstraint("", "policy", "Member must have length greater than or equal to 1")
	}
	if err := validatePolicy(policy); err != nil {
		return err
	}
	_, err := s.modify(ctx, c, keyID, "PutKeyPolicy", opAnyState, func(k *Key) error {
		if err := s.checkLockout(policy, c, bypass); err != nil {
			return err
		}
		k.Policy = policy
		return nil
	})
	return s.storeErr("put policy", err)
}

// ListKeyPolicies lists a key's policy names: always "default".
func (s *Service) ListKeyPolicies(ctx context.Context, c Caller, keyID string) ([]string, error) {
	if _, err := s.resolve(ctx, c, keyID, optsKeyOnly); err != nil {
		return nil, err
	}
	return []string{"default"}, nil
}

// lockoutSafe reports whether policy still lets caller (or its account's root, through IAM)
// call PutKeyPolicy: AWS's lockout safety check, which CreateKey and PutKeyPolicy apply unless
// BypassPolicyLockoutSafetyCheck is set. It looks only for an Allow statement naming a matching
// principal and action without conditions; the full evaluation comes with the policy engine.
func lockoutSafe(policy string, c Caller, partition string) bool {
	var doc struct{ Statement json.RawMessage }
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return false
	}
	var stmts []json.RawMessage
	if json.Unmarshal(doc.Statement, &stmts) != nil {
		stmts = []json.RawMessage{doc.Statement}
	}
	principals := []string{"*", c.ARN, c.Account, "arn:" + partition + ":iam::" + c.Account + ":root"}
	for _, raw := range stmts {
		var st struct {
			Effect    string
			Principal json.RawMessage
			Action    json.RawMessage
			Condition json.RawMessage
		}
		if json.Unmarshal(raw, &st) != nil || st.Effect != "Allow" || len(st.Condition) != 0 {
			continue
		}
		if anyMatch(policyStrings(st.Action), []string{"*", "kms:*", "kms:Put*", "kms:PutKeyPolicy"}) &&
			anyMatch(principalsOf(st.Principal), principals) {
			return true
		}
	}
	return false
}

// policyStrings reads a policy value that is a string or a list of strings.
func policyStrings(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	json.Unmarshal(raw, &many)
	return many
}

func principalsOf(raw json.RawMessage) []string {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return []string{star}
	}
	var m map[string]json.RawMessage
	json.Unmarshal(raw, &m)
	return policyStrings(m["AWS"])
}

func anyMatch(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

func (s *Service) checkLockout(policy string, c Caller, bypass bool) error {
	if bypass || lockoutSafe(policy, c, s.partition) {
		return nil
	}
	return errf(ErrMalformedPolicy, "The new key policy will not allow you to update the key policy in the future.")
}
