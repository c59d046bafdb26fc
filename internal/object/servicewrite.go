package object

import (
	"context"

	"github.com/coffer/coffer/internal/policy"
)

// ServiceAccess is an AWS service principal (CloudTrail delivering log files) acting on a
// bucket: only the bucket's policy can allow it, as S3 lets services write into a bucket only
// where its policy grants them.
type ServiceAccess struct {
	Service string // "cloudtrail.amazonaws.com"
	Action  string // "s3:PutObject", "s3:GetBucketAcl"
	Bucket  string
	Key     string // "" for an action on the bucket
	// Conditions are the condition keys the service's request gives (aws:SourceArn,
	// aws:SourceAccount, s3:x-amz-acl), keyed lower-cased.
	Conditions map[string][]string
}

// AuthorizeService decides whether the bucket's policy allows the service access, and returns
// the bucket: meta.ErrNoSuchBucket when there is none, an AccessDeniedError when its policy
// does not allow the service (an explicit deny or no allowing statement).
func (s *Service) AuthorizeService(ctx context.Context, a ServiceAccess) (Bucket, error) {
	b, err := s.bucket(ctx, a.Bucket)
	if err != nil {
		return Bucket{}, err
	}
	p, err := s.bucketPolicy(b.Policy)
	if err != nil {
		return Bucket{}, err
	}
	resource := Access{Bucket: a.Bucket, Key: a.Key}.Resource()
	req := &policy.Request{Principal: policy.Principal{Service: a.Service}, Action: a.Action, Resource: resource, Context: a.Conditions}
	switch p.Evaluate(req) {
	case policy.Allow:
		return bucketOf(b), nil
	case policy.Deny:
		return Bucket{}, &AccessDeniedError{Principal: a.Service, Action: a.Action, Resource: resource, ExplicitDeny: true, DeniedBy: policy.DeniedByResource}
	}
	return Bucket{}, &AccessDeniedError{Principal: a.Service, Action: a.Action, Resource: resource, DeniedBy: policy.DeniedByResource}
}

// PutObjectAsService writes an object into a bucket on behalf of a service principal, once
// the bucket's policy allows it s3:PutObject on the key (see AuthorizeService); the object is
// the bucket owner's, as bucket-owner-full-control and Object Ownership make it.
func (s *Service) PutObjectAsService(ctx context.Context, service string, conditions map[string][]string, in PutInput) (Object, error) {
	b, err := s.AuthorizeService(ctx, ServiceAccess{Service: service, Action: "s3:PutObject", Bucket: in.Bucket, Key: in.Key, Conditions: conditions})
	if err != nil {
		return Object{}, err
	}
	in.Owner = b.Owner
	return s.PutObject(ctx, in)
}
