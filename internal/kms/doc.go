// Package kms is Coffer's key management service: KMS keys and their versions, aliases,
// symmetric and asymmetric cryptography, HMAC, rotation, imported key material, key policies,
// grants, tags and scheduled deletion, with the semantics of AWS KMS.
//
// It knows nothing of HTTP or S3: package kmsapi speaks the wire protocol and the object
// service calls ServiceKey and the cryptographic methods directly. Keys are kept in a Store
// (one durable transaction per change); all key material is sealed under a RootKey before it
// reaches the Store. The formats are specified in SPEC.md.
package kms
