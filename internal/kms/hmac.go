package kms

import (
	"context"
	"crypto/hmac"
)

// MacInput holds GenerateMac's and VerifyMac's parameters (Mac only for VerifyMac).
type MacInput struct {
	KeyId        string
	Message      []byte
	MacAlgorithm string
	Mac          []byte
	GrantTokens  []string
	DryRun       bool
}

// MacOutput is GenerateMac's and VerifyMac's result.
type MacOutput struct {
	KeyId        string
	Mac          []byte
	MacAlgorithm string
}

func (s *Service) mac(ctx context.Context, c Caller, in MacInput, opName string) (MacOutput, error) {
	if len(in.Message) == 0 || len(in.Message) > 4096 {
		return MacOutput{}, errConstraint("", "message", "Member must have length between 1 and 4096")
	}
	if in.MacAlgorithm == "" { // a required member: AWS answers before it looks at the key
		return MacOutput{}, errValidation("1 validation error detected: Value null at 'macAlgorithm' failed to satisfy constraint: Member must not be null")
	}
	a := askFor(opName).withTokens(in.GrantTokens).with(condMacAlgorithm, in.MacAlgorithm)
	e, err := s.cryptoKey(ctx, c, in.KeyId, opSignMac, UsageMac, a)
	if err != nil {
		return MacOutput{}, err
	}
	sp := specs[e.key.Spec]
	if !contains(sp.mac, in.MacAlgorithm) {
		return MacOutput{}, s.badAlgorithm(e.key, in.MacAlgorithm)
	}
	if in.DryRun {
		return MacOutput{}, errDryRun
	}
	m, err := s.material(ctx, e, e.key.current())
	if err != nil {
		return MacOutput{}, err
	}
	h := hmac.New(sp.hash.New, m.hmac)
	h.Write(in.Message)
	return MacOutput{KeyId: s.arn(e.key), Mac: h.Sum(nil), MacAlgorithm: in.MacAlgorithm}, nil
}

// GenerateMac computes an HMAC with an HMAC key.
func (s *Service) GenerateMac(ctx context.Context, c Caller, in MacInput) (MacOutput, error) {
	return s.mac(ctx, c, in, "GenerateMac")
}

// VerifyMac checks an HMAC in constant time; a mismatch is KMSInvalidMacException.
func (s *Service) VerifyMac(ctx context.Context, c Caller, in MacInput) (MacOutput, error) {
	if len(in.Mac) == 0 || len(in.Mac) > 6144 {
		return MacOutput{}, errConstraint("", "mac", "Member must have length between 1 and 6144")
	}
	out, err := s.mac(ctx, c, in, "VerifyMac")
	if err != nil {
		return MacOutput{}, err
	}
	if !hmac.Equal(out.Mac, in.Mac) {
		return MacOutput{}, &Error{Kind: ErrInvalidMac}
	}
	out.Mac = nil
	return out, nil
}
