// Package kms is Coffer's key management service: KMS keys and their versions, aliases,
// symmetric and asymmetric cryptography, HMAC, rotation, imported key material, key policies,
// grants, tags and scheduled deletion, with the semantics of AWS KMS.
//
// It knows nothing of HTTP or S3: package kmsapi speaks the wire protocol and the object
// service calls ServiceKey and the cryptographic methods directly. Keys are kept in a Store
// (one durable transaction per change); all key material is sealed under a RootKey before it
// reaches the Store. The formats are specified in SPEC.md.
//
// Every operation is authorized before it touches a key (authz.go): the key policy decides,
// the caller's identity policies count where it delegates to the caller's account, grants add
// permissions and an explicit deny wins, all combined by policy.Decide; operations on no key
// are decided by identity policies alone. Callers come from the wire layer's request identity
// (CallerFrom); the service-owned keys (*Owned methods) are Coffer's own and not authorized.
package kms
