package object

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/meta"
	"github.com/coffer/coffer/internal/policy"
)

// MaxBucketPolicySize is S3's limit on a bucket policy, counted without insignificant
// whitespace.
const MaxBucketPolicySize = 20 << 10

// Error classes of bucket policies and Block Public Access.
var (
	ErrNoSuchBucketPolicy      = errors.New("object: bucket has no policy")
	ErrPolicyTooLarge          = errors.New("object: bucket policy larger than 20 KB")
	ErrNoSuchPublicAccessBlock = errors.New("object: bucket has no public access block configuration")
)

// MalformedPolicyError refuses a bucket policy document, in AWS's words.
type MalformedPolicyError struct{ Message string }

func (e *MalformedPolicyError) Error() string { return "object: malformed bucket policy: " + e.Message }

// PublicAccessBlock is a bucket's S3 Block Public Access configuration.
type PublicAccessBlock struct {
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}

// newBucketPublicAccessBlock is what a new bucket starts with: everything blocked, as S3 does
// for new buckets since April 2023.
func newBucketPublicAccessBlock() *meta.PublicAccessBlock {
	return &meta.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
}

// PutBucketPolicy validates doc as a bucket policy of the bucket and stores it in place of any
// other. A public policy is refused (AccessDeniedError) while the bucket's Block Public Access
// configuration blocks public policies; the check and the write are one transaction.
func (s *Service) PutBucketPolicy(ctx context.Context, bucket, doc string) error {
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(doc)); err != nil {
		return &MalformedPolicyError{"Policies must be valid JSON and the first byte must be '{'"}
	}
	if compact.Len() > MaxBucketPolicySize {
		return ErrPolicyTooLarge
	}
	p, err := policy.Parse(doc, policy.ResourceKind)
	var pe *policy.Error
	if errors.As(err, &pe) {
		return &MalformedPolicyError{pe.Message}
	}
	if err != nil {
		return fmt.Errorf("bucket policy: %w", err)
	}
	if err := checkPolicyScope(p, bucket); err != nil {
		return err
	}
	public := p.IsPublic()
	return s.updateBucket(ctx, bucket, "put policy", func(b *meta.Bucket) error {
		if public && b.PublicAccessBlock != nil && b.PublicAccessBlock.BlockPublicPolicy {
			return &AccessDeniedError{Principal: callerARN(ctx), Action: "s3:PutBucketPolicy", Resource: "arn:aws:s3:::" + bucket, PublicPolicyBlocked: true}
		}
		b.Policy = compact.String()
		return nil
	})
}

// callerARN is the ARN of the caller of ctx, "" if anonymous or unknown.
func callerARN(ctx context.Context) string {
	if r := iam.RequestFrom(ctx); r != nil {
		return r.Principal.ARN
	}
	return ""
}

// DeleteBucketPolicy removes the bucket's policy; removing none is no error, as in S3.
func (s *Service) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	return s.updateBucket(ctx, bucket, "delete policy", func(b *meta.Bucket) error { b.Policy = ""; return nil })
}

// BucketPolicyIsPublic reports whether the bucket's policy makes it public, as
// GetBucketPolicyStatus does (ErrNoSuchBucketPolicy without a policy).
func (s *Service) BucketPolicyIsPublic(b Bucket) (bool, error) {
	if b.Policy == "" {
		return false, ErrNoSuchBucketPolicy
	}
	p, err := s.bucketPolicy(b.Policy)
	if err != nil {
		return false, err
	}
	return p.IsPublic(), nil
}

// PutPublicAccessBlock stores the bucket's Block Public Access configuration.
func (s *Service) PutPublicAccessBlock(ctx context.Context, bucket string, c PublicAccessBlock) error {
	return s.updateBucket(ctx, bucket, "put public access block", func(b *meta.Bucket) error {
		b.PublicAccessBlock = &meta.PublicAccessBlock{BlockPublicAcls: c.BlockPublicAcls, IgnorePublicAcls: c.IgnorePublicAcls,
			BlockPublicPolicy: c.BlockPublicPolicy, RestrictPublicBuckets: c.RestrictPublicBuckets}
		return nil
	})
}

// DeletePublicAccessBlock removes the bucket's Block Public Access configuration: nothing is
// blocked any more.
func (s *Service) DeletePublicAccessBlock(ctx context.Context, bucket string) error {
	return s.updateBucket(ctx, bucket, "delete public access block", func(b *meta.Bucket) error { b.PublicAccessBlock = nil; return nil })
}

func (s *Service) updateBucket(ctx context.Context, bucket, what string, fn func(*meta.Bucket) error) error {
	if !ValidBucketName(bucket) {
		return meta.ErrNoSuchBucket
	}
	if err := s.meta.UpdateBucket(ctx, bucket, fn); err != nil {
		return fmt.Errorf("%s of %q: %w", what, bucket, err)
	}
	return nil
}

// checkPolicyScope refuses a bucket policy naming a resource outside the bucket, or an action
// of another service, as S3 does.
func checkPolicyScope(p *policy.Policy, bucket string) error {
	arn := "arn:aws:s3:::" + bucket
	for _, st := range p.Statements() {
		for _, r := range st.Resources {
			if r != arn && !strings.HasPrefix(r, arn+"/") {
				return &MalformedPolicyError{"Policy has invalid resource"}
			}
		}
		for _, a := range st.Actions {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
				return &MalformedPolicyError{"Policy has invalid action"}
			}
		}
	}
	return nil
}
