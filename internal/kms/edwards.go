package kms

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
)

// edwardsInput returns what Ed25519 signs for a Sign or Verify request on an
// ECC_NIST_EDWARDS25519 key. ED25519_SHA_512 is pure Ed25519 over the message and takes
// MessageType RAW only; ED25519_PH_SHA_512 is Ed25519ph (RFC 8032 §5.1) and takes MessageType
// DIGEST only: a 64-byte SHA-512 digest that KMS still prehashes as Ed25519ph's message (the
// Sign documentation: "the input is hashed twice"), so the returned input is SHA-512(digest).
func edwardsInput(in SignInput) ([]byte, error) {
	switch in.SigningAlgorithm {
	case "ED25519_SHA_512":
		switch in.MessageType {
		case "", "RAW":
			return in.Message, nil
		case "DIGEST", "EXTERNAL_MU":
			return nil, errValidation("The %s signing algorithm requires MessageType RAW.", in.SigningAlgorithm)
		}
	case "ED25519_PH_SHA_512":
		switch in.MessageType {
		case "DIGEST":
			if len(in.Message) != sha512.Size {
				return nil, errValidation("Digest is invalid length for algorithm %s.", in.SigningAlgorithm)
			}
			ph := sha512.Sum512(in.Message)
			return ph[:], nil
		case "", "RAW", "EXTERNAL_MU":
			return nil, errValidation("The %s signing algorithm requires MessageType DIGEST.", in.SigningAlgorithm)
		}
	}
	return nil, errMessageType(in.MessageType)
}

// edwardsOptions returns the ed25519 options of a signing algorithm: Ed25519ph for
// ED25519_PH_SHA_512 (its input is the SHA-512 prehash), pure Ed25519 otherwise.
func edwardsOptions(alg string) *ed25519.Options {
	if alg == "ED25519_PH_SHA_512" {
		return &ed25519.Options{Hash: crypto.SHA512}
	}
	return &ed25519.Options{}
}

// errMessageType is the answer to a MessageType outside the enum.
func errMessageType(mt string) error {
	return errConstraint(mt, "messageType", "Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]")
}
