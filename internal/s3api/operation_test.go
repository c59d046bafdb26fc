package s3api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRouteActions: every route names the IAM action AWS's "Actions, resources, and condition
// keys for Amazon S3" gives its operation, and the resource it applies to.
func TestRouteActions(t *testing.T) {
	h := New(Config{})
	tests := []struct {
		name, method, target string
		header               map[string]string
		action               string
		scope                scope
	}{
		{"ListBuckets", "GET", "/", nil, "s3:ListAllMyBuckets", scopeService},
		{"CreateBucket", "PUT", "/bkt", nil, "s3:CreateBucket", scopeNewBucket},
		{"DeleteBucket", "DELETE", "/bkt", nil, "s3:DeleteBucket", scopeBucket},
		{"HeadBucket", "HEAD", "/bkt", nil, "s3:ListBucket", scopeBucket},
		{"ListObjects", "GET", "/bkt", nil, "s3:ListBucket", scopeBucket},
		{"ListObjectsV2", "GET", "/bkt?list-type=2&prefix=a", nil, "s3:ListBucket", scopeBucket},
		{"ListObjectVersions", "GET", "/bkt?versions", nil, "s3:ListBucketVersions", scopeBucket},
		{"ListMultipartUploads", "GET", "/bkt?uploads", nil, "s3:ListBucketMultipartUploads", scopeBucket},
		{"GetBucketLocation", "GET", "/bkt?location", nil, "s3:GetBucketLocation", scopeBucket},
		{"GetBucketVersioning", "GET", "/bkt?versioning", nil, "s3:GetBucketVersioning", scopeBucket},
		{"GetBucketAcl", "GET", "/bkt?acl", nil, "s3:GetBucketAcl", scopeBucket},
		{"PutBucketAcl", "PUT", "/bkt?acl", nil, "s3:PutBucketAcl", scopeBucket},
		{"GetBucketEncryption", "GET", "/bkt?encryption", nil, "s3:GetEncryptionConfiguration", scopeBucket},
		{"PutBucketEncryption", "PUT", "/bkt?encryption", nil, "s3:PutEncryptionConfiguration", scopeBucket},
		{"DeleteBucketEncryption", "DELETE", "/bkt?encryption", nil, "s3:PutEncryptionConfiguration", scopeBucket},
		{"GetBucketOwnershipControls", "GET", "/bkt?ownershipControls", nil, "s3:GetBucketOwnershipControls", scopeBucket},
		{"PutBucketOwnershipControls", "PUT", "/bkt?ownershipControls", nil, "s3:PutBucketOwnershipControls", scopeBucket},
		{"DeleteBucketOwnershipControls", "DELETE", "/bkt?ownershipControls", nil, "s3:PutBucketOwnershipControls", scopeBucket},
		{"GetBucketPolicy", "GET", "/bkt?policy", nil, "s3:GetBucketPolicy", scopeBucket},
		{"PutBucketPolicy", "PUT", "/bkt?policy", nil, "s3:PutBucketPolicy", scopeBucket},
		{"DeleteBucketPolicy", "DELETE", "/bkt?policy", nil, "s3:DeleteBucketPolicy", scopeBucket},
		{"GetBucketPolicyStatus", "GET", "/bkt?policyStatus", nil, "s3:GetBucketPolicyStatus", scopeBucket},
		{"GetPublicAccessBlock", "GET", "/bkt?publicAccessBlock", nil, "s3:GetBucketPublicAccessBlock", scopeBucket},
		{"PutPublicAccessBlock", "PUT", "/bkt?publicAccessBlock", nil, "s3:PutBucketPublicAccessBlock", scopeBucket},
		{"DeletePublicAccessBlock", "DELETE", "/bkt?publicAccessBlock", nil, "s3:PutBucketPublicAccessBlock", scopeBucket},
		{"GetBucketTagging", "GET", "/bkt?tagging", nil, "s3:GetBucketTagging", scopeBucket},
		{"GetBucketCors", "GET", "/bkt?cors", nil, "s3:GetBucketCORS", scopeBucket},
		{"GetBucketLifecycleConfiguration", "GET", "/bkt?lifecycle", nil, "s3:GetLifecycleConfiguration", scopeBucket},
		{"DeleteObjects", "POST", "/bkt?delete", nil, "s3:DeleteObject", scopeSelf},
		{"PostObject", "POST", "/bkt", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, "s3:PutObject", scopeSelf},
		{"PutObject", "PUT", "/bkt/k", nil, "s3:PutObject", scopeObject},
		{"CopyObject", "PUT", "/bkt/k", map[string]string{"x-amz-copy-source": "src/k"}, "s3:PutObject", scopeObject},
		{"GetObject", "GET", "/bkt/k", nil, "s3:GetObject", scopeObject},
		{"HeadObject", "HEAD", "/bkt/k", nil, "s3:GetObject", scopeObject},
		{"GetObjectAttributes", "GET", "/bkt/k?attributes", nil, "s3:GetObjectAttributes", scopeObject},
		{"GetObjectAcl", "GET", "/bkt/k?acl", nil, "s3:GetObjectAcl", scopeObject},
		{"PutObjectAcl", "PUT", "/bkt/k?acl", nil, "s3:PutObjectAcl", scopeObject},
		{"GetObjectTagging", "GET", "/bkt/k?tagging", nil, "s3:GetObjectTagging", scopeObject},
		{"DeleteObject", "DELETE", "/bkt/k", nil, "s3:DeleteObject", scopeObject},
		{"CreateMultipartUpload", "POST", "/bkt/k?uploads", nil, "s3:PutObject", scopeObject},
		{"UploadPart", "PUT", "/bkt/k?partNumber=1&uploadId=u", nil, "s3:PutObject", scopeObject},
		{"UploadPartCopy", "PUT", "/bkt/k?partNumber=1&uploadId=u", map[string]string{"x-amz-copy-source": "src/k"}, "s3:PutObject", scopeObject},
		{"CompleteMultipartUpload", "POST", "/bkt/k?uploadId=u", nil, "s3:PutObject", scopeObject},
		{"AbortMultipartUpload", "DELETE", "/bkt/k?uploadId=u", nil, "s3:AbortMultipartUpload", scopeObject},
		{"ListParts", "GET", "/bkt/k?uploadId=u", nil, "s3:ListMultipartUploadParts", scopeObject},
		{"UpdateObjectEncryption", "PUT", "/bkt/k?encryption", nil, "s3:UpdateObjectEncryption", scopeObject},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "https://localhost"+tc.target, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			q := &request{r: r, query: r.URL.Query()}
			q.bucket, q.key, q.vhost = h.splitTarget(r)
			op, err := h.route(q)
			if err != nil {
				t.Fatalf("route: %v", err)
			}
			if op.action != tc.action || op.scope != tc.scope || op.serve == nil {
				t.Fatalf("route = %s (scope %d), want %s (scope %d)", op.action, op.scope, tc.action, tc.scope)
			}
		})
	}
	t.Run("unknown sub-resources are not mistaken", func(t *testing.T) {
		for _, target := range []string{"/bkt?website=x&policyX", "/bkt/k?retention"} {
			r := httptest.NewRequest(http.MethodPut, "https://localhost"+target, nil)
			q := &request{r: r, query: r.URL.Query()}
			q.bucket, q.key, q.vhost = h.splitTarget(r)
			if op, err := h.route(q); err != errNotImplemented {
				t.Fatalf("%s routed to %q, %v; want NotImplemented", target, op.action, err)
			}
		}
	})
}
