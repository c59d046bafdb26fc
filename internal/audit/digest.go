package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Digest is one digest file, in CloudTrail's shape: its JSON names and order are CloudTrail's.
// The previous* fields are null in a starting digest (the first of a chain); newestEventTime
// and oldestEventTime are null when the period had no log files.
type Digest struct {
	AWSAccountID                string          `json:"awsAccountId"`
	DigestStartTime             string          `json:"digestStartTime"` // UTC, "2006-01-02T15:04:05Z"
	DigestEndTime               string          `json:"digestEndTime"`
	DigestS3Bucket              string          `json:"digestS3Bucket"`
	DigestS3Object              string          `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string          `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string          `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string         `json:"newestEventTime"`
	OldestEventTime             *string         `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string         `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string         `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string         `json:"previousDigestHashValue"`     // hex SHA-256 of the uncompressed previous digest
	PreviousDigestHashAlgorithm *string         `json:"previousDigestHashAlgorithm"` // "SHA-256"
	PreviousDigestSignature     *string         `json:"previousDigestSignature"`     // hex
	LogFiles                    []DigestLogFile `json:"logFiles"`                    // [] when none, never null
}

// DigestLogFile is one log file a digest lists.
type DigestLogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`     // hex SHA-256 of the uncompressed log file
	HashAlgorithm   string `json:"hashAlgorithm"` // "SHA-256"
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// The algorithm names a digest carries.
const (
	SignatureAlgorithm = "SHA256withRSA"
	HashAlgorithm      = "SHA-256"
)

// TimeFormat is how digests and records write times: UTC to the second.
const TimeFormat = "2006-01-02T15:04:05Z"

// FormatTime writes t as digests and records do.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Previous makes d continue the chain after the digest prev (at bucket/object, whose
// uncompressed bytes are prevBody and whose hex signature is prevSig).
func (d *Digest) Previous(bucket, object string, prevBody []byte, prevSig string) {
	sum := sha256.Sum256(prevBody)
	h, alg := hex.EncodeToString(sum[:]), HashAlgorithm
	d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &bucket, &object
	d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = &h, &alg, &prevSig
}

// AddLogFile lists a log file stored at bucket/object in d and widens d's event times.
func (d *Digest) AddLogFile(bucket, object string, lf LogFile) {
	d.LogFiles = append(d.LogFiles, DigestLogFile{S3Bucket: bucket, S3Object: object,
		HashValue: hex.EncodeToString(lf.SHA256), HashAlgorithm: HashAlgorithm,
		NewestEventTime: FormatTime(lf.Newest), OldestEventTime: FormatTime(lf.Oldest)})
	if lf.Newest.IsZero() {
		return
	}
	if d.NewestEventTime == nil || FormatTime(lf.Newest) > *d.NewestEventTime {
		s := FormatTime(lf.Newest)
		d.NewestEventTime = &s
	}
	if d.OldestEventTime == nil || FormatTime(lf.Oldest) < *d.OldestEventTime {
		s := FormatTime(lf.Oldest)
		d.OldestEventTime = &s
	}
}

// StringToSign is what CloudTrail signs for a digest whose uncompressed bytes hash to
// digestSHA256 (aws-cli's Sha256RSADigestValidator rebuilds it the same way):
//
//	digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(digest)) \n previousDigestSignature
//
// with the literal "null" for the previous signature of a starting digest.
func StringToSign(d *Digest, digestSHA256 []byte) string {
	prev := "null"
	if d.PreviousDigestSignature != nil {
		prev = *d.PreviousDigestSignature
	}
	return d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" +
		hex.EncodeToString(digestSHA256) + "\n" + prev
}

// SignDigest sets d's key fingerprint and signature algorithm, marshals d (the uncompressed
// digest file: gzip it to store it) and signs it with s. signatureHex is what CloudTrail puts
// in the x-amz-meta-signature of the digest object.
func SignDigest(ctx context.Context, s Signer, d *Digest) (body []byte, signatureHex string, err error) {
	d.DigestPublicKeyFingerprint = s.PublicKey().Fingerprint
	d.DigestSignatureAlgorithm = SignatureAlgorithm
	if d.LogFiles == nil {
		d.LogFiles = []DigestLogFile{}
	}
	body, err = json.Marshal(d)
	if err != nil {
		return nil, "", fmt.Errorf("audit digest: %w", err)
	}
	sum := sha256.Sum256(body)
	sig, err := s.Sign(ctx, []byte(StringToSign(d, sum[:])))
	if err != nil {
		return nil, "", fmt.Errorf("audit digest: sign: %w", err)
	}
	return body, hex.EncodeToString(sig), nil
}
