package object

import "github.com/coffer/coffer/internal/meta"

// Not-found and conflict classes the object service passes through from the metadata store.
// They are the store's own values, so errors.Is matches whichever package a caller names; the
// wire layer names them here and never imports the store.
var (
	ErrNoSuchBucket   = meta.ErrNoSuchBucket
	ErrNoSuchKey      = meta.ErrNoSuchKey
	ErrNoSuchUpload   = meta.ErrNoSuchUpload
	ErrBucketNotEmpty = meta.ErrBucketNotEmpty
)

// SSE algorithms, as S3 names them in x-amz-server-side-encryption.
const (
	SSES3      = meta.SSES3      // SSE-S3: object key sealed under the service key
	SSEKMS     = meta.SSEKMS     // SSE-KMS
	SSEKMSDSSE = meta.SSEKMSDSSE // DSSE-KMS
	SSEC       = meta.SSEC       // customer-provided key
)
