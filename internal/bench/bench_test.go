package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkListObjectsV2 measures listing through the whole stack (SDK client, TLS, SigV4,
// s3api, object service, bolt metadata) on a bucket of 5000 small objects: one op is one
// page of MaxKeys keys, walking the bucket from the start to the end and starting over.
func BenchmarkListObjectsV2(b *testing.B) {
	const objects = 5000
	l := startLive(b)
	ctx := context.Background()
	bucket := "list-bench"
	if _, err := l.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		b.Fatal(err)
	}
	keys := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for k := range keys {
				if _, err := l.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &k, Body: strings.NewReader("x")}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range objects {
		keys <- fmt.Sprintf("dir%02d/obj-%06d", i%50, i)
	}
	close(keys)
	wg.Wait()
	for _, tc := range []struct {
		name      string
		maxKeys   int32
		delimiter string
	}{
		{"flat/1000", 1000, ""},
		{"flat/100", 100, ""},
		{"delimiter/1000", 1000, "/"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var token *string
			var listed int
			for b.Loop() {
				in := &s3.ListObjectsV2Input{Bucket: &bucket, MaxKeys: aws.Int32(tc.maxKeys), ContinuationToken: token}
				if tc.delimiter != "" {
					in.Delimiter = aws.String(tc.delimiter)
				}
				out, err := l.s3.ListObjectsV2(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				listed += len(out.Contents) + len(out.CommonPrefixes)
				token = nil
				if aws.ToBool(out.IsTruncated) {
					token = out.NextContinuationToken
				}
			}
			b.ReportMetric(float64(listed)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
