package s3api

import (
	"encoding/xml"
	"testing"

	"github.com/coffer/coffer/internal/fuzzseed"
)

func FuzzParseComplete(f *testing.F) {
	fuzzseed.Require(f)
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></CompleteMultipartUpload>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := parseComplete(body)
		if err != nil {
			if err != errMalformedXML || list != nil {
				t.Fatalf("failure gave %v with %d parts", err, len(list))
			}
			return
		}
		if len(list) > 10000 {
			t.Fatalf("%d parts accepted", len(list))
		}
	})
}

func FuzzParseDelete(f *testing.F) {
	fuzzseed.Require(f)
	f.Add([]byte(`<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b/c</Key><VersionId>null</VersionId></Object></Delete>`))
	f.Add([]byte(`<Delete></Delete>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		entries, _, err := parseDelete(body)
		if err != nil {
			if err != errMalformedXML || entries != nil {
				t.Fatalf("failure gave %v with %d entries", err, len(entries))
			}
			return
		}
		if len(entries) == 0 || len(entries) > 1000 {
			t.Fatalf("%d entries accepted", len(entries))
		}
	})
}

func FuzzParseCreateBucket(f *testing.F) {
	fuzzseed.Require(f)
	f.Add([]byte(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		loc, err := parseCreateBucket(body)
		if err != nil && (err != errMalformedXML || loc != "") {
			t.Fatalf("failure gave %v and %q", err, loc)
		}
		if len(body) == 0 && (err != nil || loc != "") {
			t.Fatal("empty body must mean no constraint")
		}
		if err == nil && loc != "" {
			// What was understood survives a round trip through our own encoding.
			again, err := xml.Marshal(createBucketConfiguration{LocationConstraint: loc})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := parseCreateBucket(again); err != nil || got != loc {
				t.Fatalf("round trip of %q gave %q, %v", loc, got, err)
			}
		}
	})
}
