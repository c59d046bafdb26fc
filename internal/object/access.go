package object

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/policy"
)

// ErrAccessDenied classifies every refusal of Authorize; the error is an *AccessDeniedError.
var ErrAccessDenied = errors.New("object: access denied")

// Access is one authorization question: may the caller of the context perform Action on the
// bucket (and key)? The wire layer names the action and gives the condition keys of its own
// request (headers, query); Authorize adds the caller's.
type Access struct {
	Action string // "s3:GetObject"
	Bucket string // "" for an action on no bucket (s3:ListAllMyBuckets)
	Key    string // "" for an action on the bucket itself
	// NewBucket marks an action that creates Bucket (s3:CreateBucket): it need not exist.
	NewBucket bool
	// UploadID names the multipart upload a write adds to (UploadPart, UploadPartCopy,
	// CompleteMultipartUpload): its encryption, fixed at CreateMultipartUpload, gives the SSE
	// condition keys that the part requests do not repeat.
	UploadID string
	// Conditions are the values of the request's s3: condition keys, keyed by the lower-cased
	// key name ("s3:x-amz-server-side-encryption"); a key the request does not give is absent.
	Conditions map[string][]string
}

// Resource returns the ARN the access is to: arn:aws:s3:::bucket or arn:aws:s3:::bucket/key,
// and "*" for an action on no bucket.
func (a Access) Resource() string {
	switch {
	case a.Bucket == "":
		return "*"
	case a.Key == "":
		return "arn:aws:s3:::" + a.Bucket
	}
	return "arn:aws:s3:::" + a.Bucket + "/" + a.Key
}

// AccessDeniedError is a refusal of Authorize, with what AWS says about it: the principal,
// action and resource, and which kind of policy denied or failed to allow. It never carries
// policy text.
type AccessDeniedError struct {
	Principal string // the caller's ARN; "" for an anonymous caller
	Action    string
	Resource  string
	// Explained is true where AWS explains a refusal: to a signed caller of the bucket
	// owner's account. Anonymous and other accounts' callers get a bare "Access Denied".
	Explained bool
	// ExplicitDeny: a Deny statement matched, in the policy kind DeniedBy names
	// ("resource-based policy", "identity-based policy", "session policy").
	ExplicitDeny bool
	DeniedBy     string
	// PublicPolicyBlocked: the refusal is Block Public Access refusing a public policy.
	PublicPolicyBlocked bool
}

func (e *AccessDeniedError) Error() string {
	return "object: access denied: " + e.Action + " on " + e.Resource + " for " + e.Principal
}

// Unwrap makes errors.Is(err, ErrAccessDenied) hold.
func (e *AccessDeniedError) Unwrap() error { return ErrAccessDenied }

// policyActions are the actions the bucket owner's root user may always perform, whatever the
// bucket policy says: the way out of a policy that denies everyone.
var policyActions = map[string]bool{"s3:GetBucketPolicy": true, "s3:PutBucketPolicy": true, "s3:DeleteBucketPolicy": true}

// Authorize decides whether the caller of ctx (iam.RequestFrom) may perform the access, from
// the caller's identity policies, the bucket's policy and its Block Public Access
// configuration, as AWS evaluates them. It returns the bucket (zero for an action on no
// bucket or a new one), so the handler that runs next reads it once. A missing bucket is
// meta.ErrNoSuchBucket, as S3 answers NoSuchBucket whoever asks.
func (s *Service) Authorize(ctx context.Context, a Access) (Bucket, error) {
	r := iam.RequestFrom(ctx)
	if r == nil {
		return Bucket{}, &AccessDeniedError{Action: a.Action, Resource: a.Resource()}
	}
	p := r.Principal
	var b meta.Bucket
	owner := p.AccountID
	if a.Bucket != "" && !a.NewBucket {
		var err error
		if b, err = s.bucket(ctx, a.Bucket); err != nil {
			return Bucket{}, err
		}
		owner = b.Owner
	}
	if p.Type == iam.PrincipalAccount && p.AccountID == owner && policyActions[a.Action] {
		return bucketOf(b), nil
	}
	bp, err := s.bucketPolicy(b.Policy)
	if err != nil {
		return Bucket{}, err
	}
	req := &policy.Request{Principal: iam.PolicyPrincipal(p), Action: a.Action, Resource: a.Resource()}
	if bp != nil || len(p.Policies) > 0 || len(p.SessionPolicies) > 0 {
		// Only policy statements read the condition keys: the account root of a bucket
		// without a policy (the common request) needs none built.
		req.Context = conditions(r, a.Conditions)
	}
	switch {
	case bp == nil:
	case a.UploadID != "":
		s.addUploadConditions(ctx, a, req.Context)
	case a.Action == "s3:PutObject" && a.Key != "":
		addDefaultKeyCondition(b.Encryption, req.Context)
	}
	in := policy.Inputs{
		Identity:        p.Policies,
		IdentityAll:     p.Type == iam.PrincipalAccount,
		Session:         p.SessionPolicies,
		Resource:        bp,
		ResourceAccount: owner,
	}
	if restricted(b.PublicAccessBlock, bp, p, owner) {
		// RestrictPublicBuckets: a public policy grants nothing to anonymous callers and other
		// accounts, while its Deny statements still bind them.
		if bp.Evaluate(req) == policy.Deny {
			return Bucket{}, s.denied(req, p, owner, policy.Decision{ExplicitDeny: true, DeniedBy: policy.DeniedByResource})
		}
		in.Resource = nil
	}
	d := policy.Decide(req, in)
	if !d.Allowed {
		return Bucket{}, s.denied(req, p, owner, d)
	}
	return bucketOf(b), nil
}

// addUploadConditions gives a request on a multipart upload the SSE condition keys of the
// upload's encryption, where the request does not give them itself.
func (s *Service) addUploadConditions(ctx context.Context, a Access, m map[string][]string) {
	if _, ok := m["s3:x-amz-server-side-encryption"]; ok {
		return
	}
	u, err := s.meta.GetUpload(ctx, a.Bucket, a.Key, a.UploadID)
	if err != nil || u.Encryption == nil || u.Encryption.Algorithm == meta.SSEC {
		return // a missing upload is the handler's NoSuchUpload
	}
	m["s3:x-amz-server-side-encryption"] = []string{u.Encryption.Algorithm}
	if arn := u.Encryption.KMSKeyARN; arn != "" {
		m["s3:x-amz-server-side-encryption-aws-kms-key-id"] = []string{arn}
	}
}

// addDefaultKeyCondition gives a write without SSE headers to a bucket whose default is SSE-KMS
// under a key named by ARN that key as s3:x-amz-server-side-encryption-aws-kms-key-id: S3
// matches the key it encrypts with against the policy even when the header is absent (while
// s3:x-amz-server-side-encryption stays absent). A default naming its key by id or alias is
// left out: resolving it is the KMS's, after authorization.
func addDefaultKeyCondition(e *meta.BucketEncryption, m map[string][]string) {
	const keyID = "s3:x-amz-server-side-encryption-aws-kms-key-id"
	if _, ok := m[keyID]; ok || e == nil || (e.Algorithm != meta.SSEKMS && e.Algorithm != meta.SSEKMSDSSE) {
		return
	}
	if _, ok := m["s3:x-amz-server-side-encryption"]; ok || !strings.HasPrefix(e.KMSMasterKeyID, "arn:") {
		return
	}
	m[keyID] = []string{e.KMSMasterKeyID}
}

// restricted reports whether RestrictPublicBuckets takes the bucket policy's grants from p.
func restricted(pab *meta.PublicAccessBlock, bp *policy.Policy, p iam.Principal, owner string) bool {
	if pab == nil || !pab.RestrictPublicBuckets || bp == nil || !bp.IsPublic() {
		return false
	}
	return p.Type == iam.PrincipalAnonymous || p.AccountID != owner
}

func (s *Service) denied(req *policy.Request, p iam.Principal, owner string, d policy.Decision) error {
	return &AccessDeniedError{
		Principal:    p.ARN,
		Action:       req.Action,
		Resource:     req.Resource,
		Explained:    p.Type != iam.PrincipalAnonymous && p.AccountID == owner,
		ExplicitDeny: d.ExplicitDeny,
		DeniedBy:     d.DeniedBy,
	}
}

// conditions returns the condition keys of one request: the global aws: keys of its identity,
// the s3: keys its signature gives, and the wire layer's s3: keys.
func conditions(r *iam.Request, wire map[string][]string) map[string][]string {
	m := r.GlobalConditions()
	if r.SignatureVersion != "" {
		m["s3:signatureversion"] = []string{r.SignatureVersion}
		m["s3:authtype"] = []string{r.AuthType}
		m["s3:signatureage"] = []string{strconv.FormatInt(r.SignatureAge.Milliseconds(), 10)}
	}
	if r.ContentSHA256 != "" && r.AuthType == iam.AuthHeader {
		m["s3:x-amz-content-sha256"] = []string{r.ContentSHA256}
	}
	for k, v := range wire {
		m[k] = v
	}
	return m
}
