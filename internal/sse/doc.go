// Package sse implements Coffer's object ciphertext format and the sealing of object keys.
//
// The format is specified in SPEC.md beside this file; the code follows it. In short: an object
// body (or a multipart part) is one stream, a 32-byte header followed by AES-256-GCM packages of
// 64 KiB plaintext each, under a per-stream key derived from a random per-object key. Every package
// is bound to the format version, its index, whether it is the last one, and the object identity.
// The object key is kept only sealed under a key-encryption key (SealKey, UnsealKey).
//
// Any authentication failure, whatever its cause, is reported as ErrAuth. The package imports
// nothing of Coffer's except internal/secret.
package sse
