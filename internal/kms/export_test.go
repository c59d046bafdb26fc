package kms

// SealAAD is sealAAD for the tests of package kms_test: the AAD of sealed material (SPEC.md §2).
func SealAAD(keyID string, version uint32) []byte { return sealAAD(keyID, version) }

// SealShredded and OpenShredded are the shredded material format (SPEC.md §8.1) for the
// tests of package kms_test.
var (
	SealShredded = sealShredded
	OpenShredded = openShredded
)
