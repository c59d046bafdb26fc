package migrate

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Record is one stored record in the form both backends yield: its kind, its identity (Key,
// the parts of a composite identity joined by tuple) and the bytes the stores keep (Value,
// the shared record codecs' encodings, copied unchanged). Indexes a backend derives from
// records (kmsbolt's keys by account, boltiam's key owners and policy attachments by policy,
// the PostgreSQL columns copied out of a record) are not records: each side rebuilds them.
type Record struct {
	Kind  Kind
	Key   []byte
	Value []byte
}

// Kind names a kind of record.
type Kind string

// The kinds of record, in the order they are copied: a record comes after those it refers
// to (PostgreSQL's foreign keys).
const (
	KindBucket       Kind = "s3 bucket"             // name → metarec bucket record
	KindBucketPolicy Kind = "s3 bucket policy"      // name → policy document
	KindObject       Kind = "s3 object"             // (bucket, key) → metarec object record
	KindObjectData   Kind = "s3 object inline data" // (bucket, key) → the object's inline bytes
	KindUpload       Kind = "s3 multipart upload"   // (bucket, key, upload id) → metarec upload record
	KindPart         Kind = "s3 upload part"        // (bucket, key, upload id, uint32 number) → metarec part record
	KindIntent       Kind = "s3 intent"             // blob → boltmeta's intent record
	KindKMSKey       Kind = "kms key"               // id → kmsrec key record (MACed)
	KindKMSKeyCount  Kind = "kms key count"         // account → uint64 count
	KindKMSAlias     Kind = "kms alias"             // (account, name) → kmsrec alias record (MACed)
	KindKMSGrant     Kind = "kms grant"             // (key id, grant id) → kmsrec grant record (MACed)
	KindKMSKeyStore  Kind = "kms custom key store"  // id → kmsrec key store record
	KindKMSUsage     Kind = "kms key usage"         // key id → kmsrec usage record
	KindKMSSetting   Kind = "kms setting"           // name (canary, record-format, usage-tracking-start) → value
	KindShredSlot    Kind = "kms shred slot"        // uint32 slot → the root key's seal of the shred key
	KindIAMAccount   Kind = "iam account"           // id → iamrec account
	KindIAMUser      Kind = "iam user"              // (account, lower-cased name) → iamrec user
	KindIAMRole      Kind = "iam role"              // (account, lower-cased name) → iamrec role
	KindIAMPolicy    Kind = "iam managed policy"    // (account, lower-cased name) → iamrec managed policy
	KindIAMKey       Kind = "iam access key"        // id → iamrec access key (secret sealed)
	KindIAMInline    Kind = "iam inline policy"     // (kind, account, lower-cased entity, name) → iamrec inline policy
	KindIAMAttached  Kind = "iam policy attachment" // (kind, account, lower-cased entity, lower-cased policy) → empty
	KindIAMSession   Kind = "iam role session"      // access key id → iamrec session
	KindTrail        Kind = "trail"                 // (account, name) → trailrec trail (its delivery cursor inside)
	KindBlob         Kind = "blob"                  // (only in reports) blob name → bytes
)

// Kinds lists every kind of record in copy order.
var Kinds = []Kind{KindBucket, KindBucketPolicy, KindObject, KindObjectData, KindUpload, KindPart, KindIntent,
	KindKMSKey, KindKMSKeyCount, KindKMSAlias, KindKMSGrant, KindKMSKeyStore, KindKMSUsage, KindKMSSetting, KindShredSlot,
	KindIAMAccount, KindIAMUser, KindIAMRole, KindIAMPolicy, KindIAMKey, KindIAMInline, KindIAMAttached, KindIAMSession,
	KindTrail}

// tuple encodes the parts of a composite identity, each as its uvarint length and its bytes,
// so that parts may hold any byte (an S3 key may hold 0x00).
func tuple(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = binary.AppendUvarint(out, uint64(len(p)))
		out = append(out, p...)
	}
	return out
}

// untuple reverses tuple, expecting n parts.
func untuple(b []byte, n int) ([][]byte, error) {
	parts := make([][]byte, 0, n)
	for len(b) > 0 {
		l, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < l {
			return nil, fmt.Errorf("migrate: malformed record identity")
		}
		parts, b = append(parts, b[w:w+int(l)]), b[w+int(l):]
	}
	if len(parts) != n {
		return nil, fmt.Errorf("migrate: record identity of %d parts, want %d", len(parts), n)
	}
	return parts, nil
}

// uint32Key is the identity part of a slot or part number: 4 bytes big-endian.
func uint32Key(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// describe renders a record's identity for a report: its parts quoted, numbers as numbers.
func describe(kind Kind, key []byte) string {
	n := map[Kind]int{KindObject: 2, KindObjectData: 2, KindUpload: 3, KindPart: 4, KindKMSAlias: 2, KindKMSGrant: 2,
		KindIAMUser: 2, KindIAMRole: 2, KindIAMPolicy: 2, KindIAMInline: 4, KindIAMAttached: 4, KindTrail: 2}[kind]
	if kind == KindShredSlot && len(key) == 4 {
		return string(kind) + " " + strconv.FormatUint(uint64(binary.BigEndian.Uint32(key)), 10)
	}
	if n == 0 {
		return string(kind) + " " + strconv.Quote(string(key))
	}
	parts, err := untuple(key, n)
	if err != nil {
		return string(kind) + " " + strconv.Quote(string(key))
	}
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = strconv.Quote(string(p))
		if kind == KindPart && i == 3 && len(p) == 4 {
			q[i] = strconv.FormatUint(uint64(binary.BigEndian.Uint32(p)), 10)
		}
	}
	return string(kind) + " (" + strings.Join(q, ", ") + ")"
}
