package s3api

import (
	"net/http"
)

// operation is one S3 API operation as routing resolves it: the IAM action it needs, on which
// resource, and the handler that serves it once the object service authorized the action.
type operation struct {
	action string // "s3:GetObject": AWS's "Actions, resources, and condition keys for Amazon S3"
	scope  scope
	serve  func(*request) error
}

// scope says what an operation's action applies to, and so which resource ARN it names.
type scope int

const (
	scopeService   scope = iota // "*": ListAllMyBuckets
	scopeBucket                 // arn:aws:s3:::bucket, an existing bucket
	scopeObject                 // arn:aws:s3:::bucket/key
	scopeNewBucket              // arn:aws:s3:::bucket, a bucket about to be created
	// scopeSelf: the handler authorizes itself, because the credentials come with the body
	// (POST Object) or S3 decides per key (DeleteObjects).
	scopeSelf
)

func serviceOp(action string, serve func(*request) error) operation {
	return operation{action: action, scope: scopeService, serve: serve}
}

func bucketOp(action string, serve func(*request) error) operation {
	return operation{action: action, scope: scopeBucket, serve: serve}
}

func objectOp(action string, serve func(*request) error) operation {
	return operation{action: action, scope: scopeObject, serve: serve}
}

// bucketMethod is one method of a bucket configuration sub-resource: its action and handler.
type bucketMethod struct {
	action string
	serve  func(*Handler, *request) error
}

// bucketConfig is a bucket sub-resource that S3 reads with GET, writes with PUT and removes
// with DELETE (each only where S3 has that operation).
type bucketConfig struct {
	param         string
	get, put, del bucketMethod
}

// bucketConfigs are the bucket configuration sub-resources Coffer stores. Removing one is,
// for S3's permissions, writing it (DeleteBucketEncryption needs s3:PutEncryptionConfiguration).
var bucketConfigs = []bucketConfig{
	{"encryption",
		bucketMethod{"s3:GetEncryptionConfiguration", (*Handler).getBucketEncryption},
		bucketMethod{"s3:PutEncryptionConfiguration", (*Handler).putBucketEncryption},
		bucketMethod{"s3:PutEncryptionConfiguration", (*Handler).deleteBucketEncryption}},
	{"acl",
		bucketMethod{"s3:GetBucketAcl", (*Handler).getBucketACL},
		bucketMethod{"s3:PutBucketAcl", (*Handler).putBucketACL},
		bucketMethod{}},
	{"ownershipControls",
		bucketMethod{"s3:GetBucketOwnershipControls", (*Handler).getOwnershipControls},
		bucketMethod{"s3:PutBucketOwnershipControls", (*Handler).putOwnershipControls},
		bucketMethod{"s3:PutBucketOwnershipControls", (*Handler).deleteOwnershipControls}},
	{"policy",
		bucketMethod{"s3:GetBucketPolicy", (*Handler).getBucketPolicy},
		bucketMethod{"s3:PutBucketPolicy", (*Handler).putBucketPolicy},
		bucketMethod{"s3:DeleteBucketPolicy", (*Handler).deleteBucketPolicy}},
	{"policyStatus",
		bucketMethod{"s3:GetBucketPolicyStatus", (*Handler).getBucketPolicyStatus},
		bucketMethod{}, bucketMethod{}},
	{"publicAccessBlock",
		bucketMethod{"s3:GetBucketPublicAccessBlock", (*Handler).getPublicAccessBlock},
		bucketMethod{"s3:PutBucketPublicAccessBlock", (*Handler).putPublicAccessBlock},
		bucketMethod{"s3:PutBucketPublicAccessBlock", (*Handler).deletePublicAccessBlock}},
}

// configOp returns the operation of a request to a bucket configuration sub-resource, or
// false if the request is not one.
func (h *Handler) configOp(q *request) (operation, bool) {
	for _, c := range bucketConfigs {
		if !q.has(c.param) {
			continue
		}
		var m bucketMethod
		switch q.r.Method {
		case http.MethodGet:
			m = c.get
		case http.MethodPut:
			m = c.put
		case http.MethodDelete:
			m = c.del
		}
		if m.serve == nil {
			return operation{}, false
		}
		serve := m.serve
		return bucketOp(m.action, func(q *request) error { return serve(h, q) }), true
	}
	return operation{}, false
}
