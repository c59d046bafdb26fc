package s3api

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGoldenXML pins the XML shapes clients parse. Run with -args -update after an intended
// change, and review the diff of testdata/golden.
func TestGoldenXML(t *testing.T) {
	when := xmlTime(time.Date(2026, 11, 23, 4, 5, 6, 789_000_000, time.UTC))
	sums := toChecksumFields(map[string]string{"CRC32": "NhCmhg=="})
	cases := []struct {
		name string
		v    any
	}{
		{"list-buckets", listAllMyBucketsResult{NS: s3NS, Owner: owner{ID: "123456789012", DisplayName: "coffer"}, Buckets: []bucketInfo{{Name: "photos", CreationDate: when, BucketRegion: "us-east-1"}},
			ContinuationToken: "cGhvdG9z", Prefix: "ph"}},
		{"location", locationConstraint{NS: s3NS, Value: "eu-west-1"}},
		{"list-objects-v1", listBucketResult{NS: s3NS, Name: "photos", Prefix: "2026/", Marker: ptr(""), NextMarker: "2026/b/", MaxKeys: 2, Delimiter: "/", IsTruncated: true,
			Contents:       []objectEntry{{Key: "2026/a.jpg", LastModified: when, ETag: `"5d41402abc4b2a76b9719d911017c592"`, Size: 5, Owner: &owner{ID: "123456789012"}, StorageClass: "STANDARD"}},
			CommonPrefixes: []commonPrefix{{Prefix: "2026/b/"}}}},
		{"list-objects-v2", listBucketV2Result{NS: s3NS, Name: "photos", Prefix: "", MaxKeys: 1000, KeyCount: 1, IsTruncated: true, ContinuationToken: "YQ", NextContinuationToken: "Yg", StartAfter: "a", EncodingType: "url",
			Contents: []objectEntry{{Key: "b+c", LastModified: when, ETag: `"x-2"`, ChecksumAlgorithm: []string{"CRC32"}, ChecksumType: "COMPOSITE", Size: 10485760, StorageClass: "STANDARD"}}}},
		{"copy-object", copyObjectResult{NS: s3NS, ETag: `"abc"`, LastModified: when, ChecksumType: "FULL_OBJECT", checksumFields: sums}},
		{"copy-part", copyPartResult{NS: s3NS, ETag: `"abc"`, LastModified: when}},
		{"delete-result", deleteResult{NS: s3NS, Deleted: []deletedEntry{{Key: "a"}}, Errors: []deleteErrorEntry{{Key: "b", Code: "AccessDenied", Message: "Access Denied"}}}},
		{"initiate-multipart", initiateMultipartUploadResult{NS: s3NS, Bucket: "photos", Key: "big.bin", UploadID: "0123abcd"}},
		{"complete-multipart", completeMultipartUploadResult{NS: s3NS, Location: "/photos/big.bin", Bucket: "photos", Key: "big.bin", ETag: `"abc-3"`, checksumFields: sums, ChecksumType: "COMPOSITE"}},
		{"list-parts", listPartsResult{NS: s3NS, Bucket: "photos", Key: "big.bin", UploadID: "0123abcd", Initiator: owner{ID: "123456789012"}, Owner: owner{ID: "123456789012"},
			StorageClass: "STANDARD", MaxParts: 1000, NextPartNumberMarker: 1, Parts: []partEntry{{PartNumber: 1, LastModified: when, ETag: `"abc"`, Size: 5242880, checksumFields: sums}}}},
		{"list-uploads", listMultipartUploadsResult{NS: s3NS, Bucket: "photos", MaxUploads: 1000, Uploads: []uploadEntry{{Key: "big.bin", UploadID: "0123abcd", Initiator: owner{ID: "1"}, Owner: owner{ID: "1"}, StorageClass: "STANDARD", Initiated: when}}}},
		{"acl", ownerOnlyACL(owner{ID: "123456789012", DisplayName: "coffer"})},
		{"ownership-controls", newOwnershipControls("BucketOwnerEnforced")},
		{"error", errorBody{Code: "NoSuchKey", Message: "The specified key does not exist.", BucketName: "photos", Key: "a.jpg", Resource: "/photos/a.jpg", RequestID: "4442587FB7D0A2F9", HostID: "4442587FB7D0A2F9"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			b.WriteString(xml.Header)
			if err := xml.NewEncoder(&b).Encode(tc.v); err != nil {
				t.Fatal(err)
			}
			b.WriteByte('\n')
			path := filepath.Join("testdata", "golden", tc.name+".xml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -args -update to create it)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Fatalf("XML shape changed:\ngot  %s\nwant %s", b.Bytes(), want)
			}
		})
	}
}
