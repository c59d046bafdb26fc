package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestListBucketsPaging: ListBuckets with max-buckets, continuation-token, prefix and
// bucket-region (the 2024 API), through the SDK's own paginator.
func TestListBucketsPaging(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	for _, b := range []string{"pa-1", "pa-2", "pa-3", "pb-1", "q-1"} {
		newBucket(t, e, b)
	}
	names := func(out *s3.ListBucketsOutput) []string {
		var ns []string
		for _, b := range out.Buckets {
			ns = append(ns, aws.ToString(b.Name))
			if aws.ToString(b.BucketRegion) != "us-east-1" {
				t.Errorf("bucket %s: BucketRegion %q", aws.ToString(b.Name), aws.ToString(b.BucketRegion))
			}
		}
		return ns
	}
	tests := []struct {
		name  string
		in    s3.ListBucketsInput
		pages [][]string
	}{
		{"all, unpaged", s3.ListBucketsInput{}, [][]string{{"pa-1", "pa-2", "pa-3", "pb-1", "q-1"}}},
		{"pages of two", s3.ListBucketsInput{MaxBuckets: aws.Int32(2)}, [][]string{{"pa-1", "pa-2"}, {"pa-3", "pb-1"}, {"q-1"}}},
		{"prefix", s3.ListBucketsInput{Prefix: aws.String("pa-"), MaxBuckets: aws.Int32(2)}, [][]string{{"pa-1", "pa-2"}, {"pa-3"}}},
		{"exact last page", s3.ListBucketsInput{Prefix: aws.String("p"), MaxBuckets: aws.Int32(4)}, [][]string{{"pa-1", "pa-2", "pa-3", "pb-1"}}},
		{"this region", s3.ListBucketsInput{BucketRegion: aws.String("us-east-1"), Prefix: aws.String("q")}, [][]string{{"q-1"}}},
		{"other region", s3.ListBucketsInput{BucketRegion: aws.String("eu-west-1")}, [][]string{nil}},
		{"empty token", s3.ListBucketsInput{ContinuationToken: aws.String(""), Prefix: aws.String("pb")}, [][]string{{"pb-1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := s3.NewListBucketsPaginator(e.s3, &tc.in)
			var got [][]string
			for p.HasMorePages() {
				out := must[*s3.ListBucketsOutput](t)(p.NextPage(c))
				got = append(got, names(out))
				if aws.ToString(out.Prefix) != aws.ToString(tc.in.Prefix) {
					t.Errorf("Prefix %q, want %q", aws.ToString(out.Prefix), aws.ToString(tc.in.Prefix))
				}
				if len(got) > len(tc.pages) {
					break
				}
			}
			if len(got) != len(tc.pages) {
				t.Fatalf("pages %q, want %q", got, tc.pages)
			}
			for i := range got {
				if !equalStrings(got[i], tc.pages[i]) {
					t.Fatalf("pages %q, want %q", got, tc.pages)
				}
			}
		})
	}
	t.Run("bad arguments", func(t *testing.T) {
		for _, in := range []s3.ListBucketsInput{
			{MaxBuckets: aws.Int32(0)},
			{MaxBuckets: aws.Int32(10001)},
			{ContinuationToken: aws.String("!!!")},
		} {
			_, err := e.s3.ListBuckets(c, &in)
			wantAPIError(t, err, "InvalidArgument", 400)
		}
	})
}
