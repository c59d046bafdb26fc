// Package sigv4 authenticates HTTP requests signed with AWS Signature
// Version 4 on the server side: Authorization-header and presigned (query)
// requests, for any service, and the payload modes S3 clients use (a signed
// SHA-256 of the body, UNSIGNED-PAYLOAD, and the aws-chunked streaming
// encodings with per-chunk signatures and trailing checksums).
//
// The one entry point is [Verifier.Verify]. It checks everything that can be
// checked from the request line and headers, then hands back [Auth] whose
// Body decodes and verifies the payload as it is read, with bounded memory.
// Consumers must not commit anything read from Auth.Body until it has
// returned io.EOF: only then are the payload hash, every chunk signature and
// the trailer signature known to be good.
//
// Errors are classified by the sentinel values in errors.go; the wire layers
// map each class to an AWS error code. Error text names the class and what
// was malformed, never an expected signature or any key material.
package sigv4
