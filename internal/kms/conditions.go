package kms

import (
	"slices"
	"strconv"
	"strings"
)

// Condition keys of AWS KMS ("AWS KMS condition keys"), lower-cased as policy evaluation looks
// them up. Each is given only on the operations AWS documents it for: the request keys by the
// operation that has the parameter (ask.with), the key's own by authorize for every operation
// on a key.
const (
	condCallerAccount       = "kms:calleraccount"
	condViaService          = "kms:viaservice"
	condKeySpec             = "kms:keyspec"
	condKeyUsage            = "kms:keyusage"
	condKeyOrigin           = "kms:keyorigin"
	condRequestAlias        = "kms:requestalias"
	condResourceAliases     = "kms:resourcealiases"
	condEncryptionContext   = "kms:encryptioncontext:" // + the context key, lower-cased
	condEncryptionCtxKeys   = "kms:encryptioncontextkeys"
	condEncryptionAlgorithm = "kms:encryptionalgorithm"
	condSigningAlgorithm    = "kms:signingalgorithm"
	condMacAlgorithm        = "kms:macalgorithm"
	condKeyAgreementAlg     = "kms:keyagreementalgorithm"
	condDataKeyPairSpec     = "kms:datakeypairspec"
	condGrantOperations     = "kms:grantoperations"
	condGranteePrincipal    = "kms:granteeprincipal"
	condRetiringPrincipal   = "kms:retiringprincipal"
	condGrantForAWSResource = "kms:grantisforawsresource"
	condGrantConstraintType = "kms:grantconstrainttype"
	condBypassLockout       = "kms:bypasspolicylockoutsafetycheck"
)

// callerConditions returns a map of the caller's condition keys (the request's global aws:
// keys, kms:CallerAccount, kms:ViaService), from the service's pool: give it back with
// putConditions once the decision is made. Every authorization builds one, so maps are
// reused rather than allocated per request.
func (s *Service) callerConditions(c Caller) map[string][]string {
	m, _ := s.condMaps.Get().(map[string][]string)
	if m == nil {
		m = make(map[string][]string, 32)
	}
	if c.request != nil {
		c.request.PutGlobalConditions(m)
	}
	for k, v := range c.Conditions {
		m[k] = v
	}
	m[condCallerAccount] = []string{c.Account}
	if c.ViaService != "" {
		m[condViaService] = []string{c.ViaService}
		// A call a service makes on the principal's behalf (forward access session).
		m["aws:viaawsservice"] = []string{"true"}
	}
	return m
}

// putConditions returns a map of callerConditions to the pool.
func (s *Service) putConditions(m map[string][]string) {
	clear(m)
	s.condMaps.Put(m)
}

// keyConditions returns the condition keys of a request a on key k: the caller's, the key's
// own (kms:KeySpec, KeyUsage, KeyOrigin, ResourceAliases, RequestAlias) and the operation's.
func (s *Service) keyConditions(c Caller, k *Key, a ask, aliases []string) map[string][]string {
	m := s.callerConditions(c)
	m[condKeySpec] = []string{k.Spec}
	m[condKeyUsage] = []string{k.Usage}
	m[condKeyOrigin] = []string{k.Origin}
	if len(aliases) > 0 {
		m[condResourceAliases] = aliases
	}
	if a.alias != "" {
		m[condRequestAlias] = []string{a.alias}
	}
	for key, v := range a.conds {
		m[key] = v
	}
	return m
}

// addContextConds adds kms:EncryptionContext:<key> for each pair of ec (the key part is
// case-insensitive, the value case-sensitive) and kms:EncryptionContextKeys, to a copy of m.
func addContextConds(m map[string][]string, ec map[string]string) map[string][]string {
	if len(ec) == 0 {
		return m
	}
	out := make(map[string][]string, len(m)+len(ec)+1)
	for k, v := range m {
		out[k] = v
	}
	keys := make([]string, 0, len(ec))
	for k, v := range ec {
		name := condEncryptionContext + strings.ToLower(k)
		out[name] = append(out[name], v)
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out[condEncryptionCtxKeys] = keys
	return out
}

// grantConds are CreateGrant's condition keys (kms:GrantOperations, GranteePrincipal,
// RetiringPrincipal, GrantIsForAWSResource, GrantConstraintType, and the encryption
// context of its constraints).
func grantConds(a ask, in CreateGrantInput) ask {
	a = a.with(condGrantOperations, in.Operations...).
		with(condGranteePrincipal, in.GranteePrincipal).
		with(condRetiringPrincipal, in.RetiringPrincipal).
		with(condGrantForAWSResource, "false")
	if gc := in.Constraints; gc != nil {
		switch {
		case gc.EncryptionContextEquals != nil:
			a = a.with(condGrantConstraintType, "EncryptionContextEquals")
			a.conds = addContextConds(a.conds, gc.EncryptionContextEquals)
		case gc.EncryptionContextSubset != nil:
			a = a.with(condGrantConstraintType, "EncryptionContextSubset")
			a.conds = addContextConds(a.conds, gc.EncryptionContextSubset)
		}
	}
	return a
}

func boolCond(b bool) string { return strconv.FormatBool(b) }
