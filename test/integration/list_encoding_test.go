package integration

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestListEncodingTypeURL: with encoding-type=url each listing encodes exactly the elements S3
// encodes (botocore's decode_list_object* handlers and the API reference list them), a space
// as %20, and leaves the rest as sent: ListObjects' top-level Prefix, markers of upload ids.
func TestListEncodingTypeURL(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "enc")
	putKeys(t, e, "enc", []string{"sp ace/x", "sp ace/y+z", "sp ace/dir/w"})
	must[*s3.CreateMultipartUploadOutput](t)(e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: aws.String("enc"), Key: aws.String("sp ace/u p")}))
	tests := []struct {
		name      string
		query     string
		want      []string
		wantNever []string
	}{
		{"ListObjectsV2", "list-type=2&prefix=sp%20ace%2F&delimiter=%2F&start-after=sp%20ace%2Fa",
			[]string{"<Prefix>sp%20ace/</Prefix>", "<Delimiter>/</Delimiter>", "<StartAfter>sp%20ace/a</StartAfter>",
				"<Key>sp%20ace/x</Key>", "<Key>sp%20ace/y%2Bz</Key>", "<CommonPrefixes><Prefix>sp%20ace/dir/</Prefix></CommonPrefixes>"},
			[]string{"+"}},
		{"ListObjectsV2 space delimiter", "list-type=2&delimiter=%20",
			[]string{"<Delimiter>%20</Delimiter>", "<CommonPrefixes><Prefix>sp%20</Prefix></CommonPrefixes>"}, []string{"+"}},
		{"ListObjects", "prefix=sp%20ace%2F&marker=sp%20ace%2Fa&delimiter=%2F",
			[]string{"<Prefix>sp ace/</Prefix>", "<Marker>sp%20ace/a</Marker>", "<Key>sp%20ace/x</Key>",
				"<Key>sp%20ace/y%2Bz</Key>", "<CommonPrefixes><Prefix>sp%20ace/dir/</Prefix></CommonPrefixes>"},
			[]string{"+"}},
		{"ListObjects next marker", "prefix=sp%20ace%2F&delimiter=%2F&max-keys=1",
			[]string{"<NextMarker>sp%20ace/dir/</NextMarker>"}, nil},
		{"ListObjectVersions", "versions&prefix=sp%20ace%2F&key-marker=sp%20ace%2Fa&max-keys=1",
			[]string{"<Prefix>sp%20ace/</Prefix>", "<KeyMarker>sp%20ace/a</KeyMarker>", "<Key>sp%20ace/dir/w</Key>",
				"<NextKeyMarker>sp%20ace/dir/w</NextKeyMarker>"}, []string{"+"}},
		{"ListMultipartUploads", "uploads&prefix=sp%20ace%2F&key-marker=sp%20ace%2Fa",
			[]string{"<Prefix>sp%20ace/</Prefix>", "<KeyMarker>sp%20ace/a</KeyMarker>", "<Key>sp%20ace/u%20p</Key>"}, []string{"+"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.raw(t, "GET", "/enc?encoding-type=url&"+tc.query, "", nil, nowUTC())
			body := string(mustRead(t, resp))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			for _, w := range append(tc.want, "<EncodingType>url</EncodingType>") {
				if !strings.Contains(body, w) {
					t.Errorf("no %s in %s", w, body)
				}
			}
			for _, w := range tc.wantNever {
				if strings.Contains(body, w) {
					t.Errorf("%q in %s", w, body)
				}
			}
		})
	}
}

// TestListEmptyContinuationToken: S3 treats an empty continuation-token as none.
func TestListEmptyContinuationToken(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "tok")
	putKeys(t, e, "tok", []string{"a", "b"})
	out := must[*s3.ListObjectsV2Output](t)(e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String("tok"), ContinuationToken: aws.String("")}))
	if len(out.Contents) != 2 || aws.ToString(out.Contents[0].Key) != "a" || out.ContinuationToken != nil {
		t.Fatalf("listing with an empty token: %d objects, token %v", len(out.Contents), out.ContinuationToken)
	}
}
