package iam

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/policy"
)

// ErrAccessDenied classifies a request the policies do not allow.
var ErrAccessDenied = errors.New("iam: access denied")

// Session durations of AssumeRole, in seconds.
const (
	minSessionDuration     = 900
	defaultSessionDuration = 3600
	// maxSessionPolicySize is AWS's limit on the plain-text session policy and managed policy
	// ARNs together.
	maxSessionPolicySize = 2048
	maxSessionPolicyARNs = 10
	// roleChainingMax bounds a session made by a role session, as in AWS.
	roleChainingMax = 3600
)

// AssumeRoleInput is an AssumeRole request.
type AssumeRoleInput struct {
	RoleARN         string
	SessionName     string
	DurationSeconds int // 0: one hour
	Policy          string
	PolicyARNs      []string
	// Conditions are the request's condition keys (Request.GlobalConditions).
	Conditions map[string][]string
}

// TemporaryCredentials are a role session's credentials, shown once.
type TemporaryCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	AssumedRoleARN  string // arn:aws:sts::<account>:assumed-role/<role>/<session>
	AssumedRoleID   string // AROA...:<session>
}

// PolicyPrincipal returns p as policy evaluation matches it.
func PolicyPrincipal(p Principal) policy.Principal {
	return policy.Principal{ARN: p.ARN, Account: p.AccountID, RoleARN: p.RoleARN, Anonymous: p.Type == PrincipalAnonymous}
}

// parseRoleARN splits arn:aws:iam::<account>:role<path><name>.
func parseRoleARN(arn string) (account, name string, ok bool) {
	rest, ok1 := strings.CutPrefix(arn, "arn:aws:iam::")
	acct, res, ok2 := strings.Cut(rest, ":")
	res, ok3 := strings.CutPrefix(res, "role/")
	if !ok1 || !ok2 || !ok3 || !ValidAccountID(acct) || res == "" {
		return "", "", false
	}
	return acct, res[strings.LastIndexByte(res, '/')+1:], true
}

// AssumeRole checks the role's trust policy (and, where AWS needs it, the caller's identity
// policies) and makes a role session. As in AWS, an account root may not assume roles.
func (s *Service) AssumeRole(ctx context.Context, caller Principal, in AssumeRoleInput) (TemporaryCredentials, error) {
	if !validName(in.SessionName, 64) || len(in.SessionName) < 2 {
		return TemporaryCredentials{}, errorf(ErrValidation, "1 validation error detected: Value '"+in.SessionName+"' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2, less than or equal to 64 and satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	if len(in.RoleARN) < 20 {
		return TemporaryCredentials{}, errorf(ErrValidation, "1 validation error detected: Value '"+in.RoleARN+"' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20")
	}
	if len(in.Policy)+len(strings.Join(in.PolicyARNs, "")) > maxSessionPolicySize || len(in.PolicyARNs) > maxSessionPolicyARNs {
		return TemporaryCredentials{}, errorf(ErrPackedPolicyTooLarge, "Packed policy consumes more than 100% of the allotted space.")
	}
	if caller.Root {
		return TemporaryCredentials{}, errorf(ErrAccessDenied, "Roles may not be assumed by root accounts.")
	}
	denied := errorf(ErrAccessDenied, "User: "+caller.ARN+" is not authorized to perform: sts:AssumeRole on resource: "+in.RoleARN)
	account, name, ok := parseRoleARN(in.RoleARN)
	if !ok {
		return TemporaryCredentials{}, errorf(ErrValidation, in.RoleARN+" is invalid")
	}
	role, err := s.store.GetRole(ctx, account, name)
	if errors.Is(err, ErrNoSuchEntity) || err == nil && role.ARN() != in.RoleARN {
		return TemporaryCredentials{}, denied
	} else if err != nil {
		return TemporaryCredentials{}, err
	}
	trust, err := policy.Parse(role.TrustPolicy, policy.TrustKind)
	if err != nil {
		s.log.ErrorContext(ctx, "iam: a stored trust policy does not parse", "role", role.ARN(), "err", err)
		return TemporaryCredentials{}, denied
	}
	req := &policy.Request{Principal: PolicyPrincipal(caller), Action: "sts:AssumeRole", Resource: role.ARN(), Context: in.Conditions}
	// A role is assumed only when its trust policy lets the caller in: an identity policy
	// alone never suffices. Decide then adds AWS's rules (an account principal delegates to
	// identity policies; across accounts both sides must allow; explicit denies win).
	if eff := trust.Evaluate(req); eff != policy.Allow && eff != policy.AllowAccount {
		return TemporaryCredentials{}, denied
	}
	d := policy.Decide(req, policy.Inputs{Identity: caller.Policies, IdentityAll: caller.Root, Session: caller.SessionPolicies,
		Resource: trust, ResourceAccount: role.Account})
	if !d.Allowed {
		return TemporaryCredentials{}, denied
	}
	dur := in.DurationSeconds
	if dur == 0 {
		dur = min(defaultSessionDuration, role.MaxSessionDuration)
	}
	if caller.Type == PrincipalAssumedRole && dur > roleChainingMax {
		return TemporaryCredentials{}, errorf(ErrValidation, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if dur < minSessionDuration || dur > role.MaxSessionDuration {
		if dur < minSessionDuration {
			return TemporaryCredentials{}, errorf(ErrValidation, fmt.Sprintf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", dur))
		}
		if dur > maxMaxSessionDuration {
			return TemporaryCredentials{}, errorf(ErrValidation, fmt.Sprintf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", dur))
		}
		return TemporaryCredentials{}, errorf(ErrValidation, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	sessionPolicies, err := s.sessionPolicies(ctx, role.Account, in)
	if err != nil {
		return TemporaryCredentials{}, err
	}
	return s.newSession(ctx, role, caller, in.SessionName, time.Duration(dur)*time.Second, sessionPolicies)
}

// ErrPackedPolicyTooLarge classifies session policies over AWS's size limit.
var ErrPackedPolicyTooLarge = errors.New("iam: packed policy too large")

// sessionPolicies validates the session policy and resolves the managed policy ARNs to their
// default versions.
func (s *Service) sessionPolicies(ctx context.Context, account string, in AssumeRoleInput) ([]string, error) {
	var docs []string
	if in.Policy != "" {
		if err := parseIdentityDocument(in.Policy); err != nil {
			return nil, err
		}
		docs = append(docs, in.Policy)
	}
	for _, arn := range in.PolicyARNs {
		// The managed policies must be the role account's, as in AWS.
		p, err := s.GetPolicy(ctx, account, arn)
		if err != nil {
			return nil, err
		}
		v, _ := p.Version(p.DefaultVersion)
		docs = append(docs, v.Document)
	}
	return docs, nil
}

// newSession stores a role session and returns its credentials. Only the token's hash is
// stored, and the secret only sealed.
func (s *Service) newSession(ctx context.Context, role Role, caller Principal, name string, d time.Duration, policies []string) (TemporaryCredentials, error) {
	now := s.now().UTC().Truncate(time.Second)
	id := newAccessKeyID(sessionKeyPrefix)
	token := newSessionToken()
	sec := newSecret()
	defer clear(sec)
	sealed, err := s.sealer.Seal(ctx, sec, sealContext(id))
	if err != nil {
		return TemporaryCredentials{}, fmt.Errorf("iam: sealing a session secret: %w", err)
	}
	hash := sha256.Sum256([]byte(token))
	ss := Session{AccessKeyID: id, Account: role.Account, RoleName: role.Name, RoleID: role.ID, SessionName: name, TokenHash: hash[:],
		SealedSecret: sealed, Policies: policies, SourceIdentity: caller.ARN, Created: now, Expires: now.Add(d)}
	if err := s.store.PutSession(ctx, ss); err != nil {
		return TemporaryCredentials{}, err
	}
	return TemporaryCredentials{AccessKeyID: id, SecretAccessKey: string(sec), SessionToken: token, Expiration: ss.Expires,
		AssumedRoleARN: "arn:aws:sts::" + role.Account + ":assumed-role/" + role.Name + "/" + name,
		AssumedRoleID:  role.ID + ":" + name}, nil
}

// DeleteExpiredSessions removes the role sessions that have expired; the server runs it now and
// then.
func (s *Service) DeleteExpiredSessions(ctx context.Context) (int, error) {
	return s.store.DeleteExpiredSessions(ctx, s.now())
}

// Authorize decides an IAM or STS action of caller on a resource of account from the caller's
// identity policies: the account root may do everything in its own account; users and role
// sessions need an identity policy allowing it (and their session policies, if any).
func Authorize(caller Principal, account, action, resource string, conditions map[string][]string) error {
	if caller.Root && caller.AccountID == account {
		return nil
	}
	req := &policy.Request{Principal: PolicyPrincipal(caller), Action: action, Resource: resource, Context: conditions}
	d := policy.Decide(req, policy.Inputs{Identity: caller.Policies, Session: caller.SessionPolicies, ResourceAccount: account})
	if d.Allowed && caller.AccountID == account {
		return nil
	}
	kind := policy.DeniedByIdentity
	if d.ExplicitDeny {
		kind = d.DeniedBy
	}
	return errorf(ErrAccessDenied, policy.DeniedMessage(caller.ARN, action, resource, d.ExplicitDeny, kind))
}
