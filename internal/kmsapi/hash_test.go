package kmsapi

import (
	"crypto"
	"crypto/sha1"
	"hash"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func newSHA1() hash.Hash { return sha1.New() }

func cryptoHash(alg types.SigningAlgorithmSpec) crypto.Hash {
	switch {
	case strings.HasSuffix(string(alg), "384"):
		return crypto.SHA384
	case strings.HasSuffix(string(alg), "512"):
		return crypto.SHA512
	}
	return crypto.SHA256
}
