package s3api

import (
	"net/http"
)

// operation is one S3 API operation as routing resolves it: the IAM action it needs, on which
// resource, and the handler that serves it once the object service authorized the action.
type operation struct {
	name   string // the S3 API operation ("GetObject"), the eventName of its audit record
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

func serviceOp(name, action string, serve func(*request) error) operation {
	return operation{name: name, action: action, scope: scopeService, serve: serve}
}

func bucketOp(name, action string, serve func(*request) error) operation {
	return operation{name: name, action: action, scope: scopeBucket, serve: serve}
}

func objectOp(name, action string, serve func(*request) error) operation {
	return operation{name: name, action: action, scope: scopeObject, serve: serve}
}

// bucketMethod is one method of a bucket configuration sub-resource: its operation name,
// action and handler.
type bucketMethod struct {
	name   string
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
		bucketMethod{"GetBucketEncryption", "s3:GetEncryptionConfiguration", (*Handler).getBucketEncryption},
		bucketMethod{"PutBucketEncryption", "s3:PutEncryptionConfiguration", (*Handler).putBucketEncryption},
		bucketMethod{"DeleteBucketEncryption", "s3:PutEncryptionConfiguration", (*Handler).deleteBucketEncryption}},
	{"acl",
		bucketMethod{"GetBucketAcl", "s3:GetBucketAcl", (*Handler).getBucketACL},
		bucketMethod{"PutBucketAcl", "s3:PutBucketAcl", (*Handler).putBucketACL},
		bucketMethod{}},
	{"ownershipControls",
		bucketMethod{"GetBucketOwnershipControls", "s3:GetBucketOwnershipControls", (*Handler).getOwnershipControls},
		bucketMethod{"PutBucketOwnershipControls", "s3:PutBucketOwnershipControls", (*Handler).putOwnershipControls},
		bucketMethod{"DeleteBucketOwnershipControls", "s3:PutBucketOwnershipControls", (*Handler).deleteOwnershipControls}},
	{"policy",
		bucketMethod{"GetBucketPolicy", "s3:GetBucketPolicy", (*Handler).getBucketPolicy},
		bucketMethod{"PutBucketPolicy", "s3:PutBucketPolicy", (*Handler).putBucketPolicy},
		bucketMethod{"DeleteBucketPolicy", "s3:DeleteBucketPolicy", (*Handler).deleteBucketPolicy}},
	{"policyStatus",
		bucketMethod{"GetBucketPolicyStatus", "s3:GetBucketPolicyStatus", (*Handler).getBucketPolicyStatus},
		bucketMethod{}, bucketMethod{}},
	// CloudTrail names the Block Public Access operations of a bucket *BucketPublicAccessBlock.
	{"publicAccessBlock",
		bucketMethod{"GetBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock", (*Handler).getPublicAccessBlock},
		bucketMethod{"PutBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", (*Handler).putPublicAccessBlock},
		bucketMethod{"DeleteBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", (*Handler).deletePublicAccessBlock}},
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
		return bucketOp(m.name, m.action, func(q *request) error { return serve(h, q) }), true
	}
	return operation{}, false
}
