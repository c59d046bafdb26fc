package integration

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// putKeys writes empty objects under keys with a few concurrent writers.
func putKeys(t *testing.T, e *env, bucket string, keys []string) {
	t.Helper()
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	work := make(chan string)
	for range 16 {
		wg.Go(func() {
			for k := range work {
				if _, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: stringsReader("")}); err != nil {
					errs <- fmt.Errorf("put %s: %w", k, err)
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestListingSmall(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "list")
	// In byte order, as S3 lists: "z" (0x7a) sorts before "ü" (0xc3 0xbc).
	keys := []string{"a", "b/1", "b/2", "b/c/3", "c d", "c+d", "d/", "e/f/g", "z", "ü/x"}
	putKeys(t, e, "list", keys)

	v2 := func(in *s3.ListObjectsV2Input) ([]string, []string, *s3.ListObjectsV2Output) {
		in.Bucket = aws.String("list")
		out := must[*s3.ListObjectsV2Output](t)(e.s3.ListObjectsV2(c, in))
		var ks, ps []string
		for _, o := range out.Contents {
			ks = append(ks, aws.ToString(o.Key))
		}
		for _, p := range out.CommonPrefixes {
			ps = append(ps, aws.ToString(p.Prefix))
		}
		return ks, ps, out
	}
	cases := []struct {
		name         string
		in           s3.ListObjectsV2Input
		keys, prefix []string
		truncated    bool
	}{
		{"all", s3.ListObjectsV2Input{}, keys, nil, false},
		{"prefix", s3.ListObjectsV2Input{Prefix: aws.String("b/")}, []string{"b/1", "b/2", "b/c/3"}, nil, false},
		{"delimiter", s3.ListObjectsV2Input{Delimiter: aws.String("/")}, []string{"a", "c d", "c+d", "z"}, []string{"b/", "d/", "e/", "ü/"}, false},
		{"max keys", s3.ListObjectsV2Input{MaxKeys: aws.Int32(2)}, []string{"a", "b/1"}, nil, true},
		{"max keys zero", s3.ListObjectsV2Input{MaxKeys: aws.Int32(0)}, nil, nil, false},
		{"prefix and delimiter", s3.ListObjectsV2Input{Prefix: aws.String("b/"), Delimiter: aws.String("/")}, []string{"b/1", "b/2"}, []string{"b/c/"}, false},
		{"start after", s3.ListObjectsV2Input{StartAfter: aws.String("c+d")}, []string{"d/", "e/f/g", "z", "ü/x"}, nil, false},
		{"multi-char delimiter", s3.ListObjectsV2Input{Delimiter: aws.String("/c")}, []string{"a", "b/1", "b/2", "c d", "c+d", "d/", "e/f/g", "z", "ü/x"}, []string{"b/c"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			ks, ps, out := v2(&in)
			if !equalStrings(ks, tc.keys) || !equalStrings(ps, tc.prefix) || aws.ToBool(out.IsTruncated) != tc.truncated {
				t.Fatalf("keys %q prefixes %q truncated %v; want %q %q %v", ks, ps, aws.ToBool(out.IsTruncated), tc.keys, tc.prefix, tc.truncated)
			}
			if int(aws.ToInt32(out.KeyCount)) != len(ks)+len(ps) {
				t.Fatalf("KeyCount %d, want %d", aws.ToInt32(out.KeyCount), len(ks)+len(ps))
			}
		})
	}
	t.Run("max keys page content", func(t *testing.T) {
		ks, ps, out := v2(&s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(3)})
		if !equalStrings(ks, []string{"a", "c d"}) || !equalStrings(ps, []string{"b/"}) || !aws.ToBool(out.IsTruncated) {
			t.Fatalf("page 1: %q %q %v", ks, ps, aws.ToBool(out.IsTruncated))
		}
		ks, ps, out = v2(&s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(3), ContinuationToken: out.NextContinuationToken})
		if !equalStrings(ks, []string{"c+d"}) || !equalStrings(ps, []string{"d/", "e/"}) || !aws.ToBool(out.IsTruncated) {
			t.Fatalf("page 2: %q %q %v", ks, ps, aws.ToBool(out.IsTruncated))
		}
		ks, ps, out = v2(&s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(3), ContinuationToken: out.NextContinuationToken})
		if !equalStrings(ks, []string{"z"}) || !equalStrings(ps, []string{"ü/"}) || aws.ToBool(out.IsTruncated) {
			t.Fatalf("page 3: %q %q %v", ks, ps, aws.ToBool(out.IsTruncated))
		}
	})
	t.Run("fetch owner", func(t *testing.T) {
		_, _, out := v2(&s3.ListObjectsV2Input{MaxKeys: aws.Int32(1)})
		if out.Contents[0].Owner != nil {
			t.Fatal("owner returned without fetch-owner")
		}
		_, _, out = v2(&s3.ListObjectsV2Input{MaxKeys: aws.Int32(1), FetchOwner: aws.Bool(true)})
		if out.Contents[0].Owner == nil || aws.ToString(out.Contents[0].Owner.ID) == "" {
			t.Fatal("no owner with fetch-owner=true")
		}
	})
	t.Run("encoding type url", func(t *testing.T) {
		out := must[*s3.ListObjectsV2Output](t)(e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String("list"), EncodingType: types.EncodingTypeUrl, Prefix: aws.String("c")}))
		// aws-sdk-go-v2 hands url-encoded keys over as sent: a space is "%20", a plus "%2B".
		var ks []string
		for _, o := range out.Contents {
			ks = append(ks, aws.ToString(o.Key))
		}
		if !equalStrings(ks, []string{"c%20d", "c%2Bd"}) {
			t.Fatalf("decoded keys %q", ks)
		}
		resp := e.raw(t, "GET", "/list?list-type=2&encoding-type=url&prefix=c", "", nil, nowUTC())
		raw := string(mustRead(t, resp))
		if !strings.Contains(raw, "<Key>c%20d</Key><") || !strings.Contains(raw, "<Key>c%2Bd</Key>") || !strings.Contains(raw, "<EncodingType>url</EncodingType>") {
			t.Fatalf("raw url-encoded listing: %s", raw)
		}
	})
	t.Run("v1 marker and next marker", func(t *testing.T) {
		out := must[*s3.ListObjectsOutput](t)(e.s3.ListObjects(c, &s3.ListObjectsInput{Bucket: aws.String("list"), MaxKeys: aws.Int32(2), Delimiter: aws.String("/")}))
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextMarker) != "b/" || len(out.Contents) != 1 || len(out.CommonPrefixes) != 1 {
			t.Fatalf("v1 page 1: truncated %v next %q contents %d prefixes %d", aws.ToBool(out.IsTruncated), aws.ToString(out.NextMarker), len(out.Contents), len(out.CommonPrefixes))
		}
		out = must[*s3.ListObjectsOutput](t)(e.s3.ListObjects(c, &s3.ListObjectsInput{Bucket: aws.String("list"), Marker: out.NextMarker, Delimiter: aws.String("/")}))
		if len(out.Contents) != 3 || aws.ToString(out.Contents[0].Key) != "c d" || aws.ToBool(out.IsTruncated) {
			t.Fatalf("v1 page 2 after marker b/: %d contents, first %q", len(out.Contents), aws.ToString(out.Contents[0].Key))
		}
		if out.Contents[0].Owner == nil {
			t.Fatal("v1 listing has no owner")
		}
	})
	t.Run("bad continuation token", func(t *testing.T) {
		_, err := e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String("list"), ContinuationToken: aws.String("!!!")})
		wantAPIError(t, err, "InvalidArgument", 400)
	})
}

func TestListingTenThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,050 objects")
	}
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "many")
	var keys []string
	for i := range 10_000 {
		keys = append(keys, fmt.Sprintf("k/%05d", i))
	}
	for i := range 50 {
		keys = append(keys, fmt.Sprintf("p%02d/x", i))
	}
	putKeys(t, e, "many", keys)
	sort.Strings(keys)

	t.Run("v2 paginator", func(t *testing.T) {
		var got []string
		pages := 0
		p := s3.NewListObjectsV2Paginator(e.s3, &s3.ListObjectsV2Input{Bucket: aws.String("many")})
		for p.HasMorePages() {
			out := must[*s3.ListObjectsV2Output](t)(p.NextPage(c))
			pages++
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
		}
		if !equalStrings(got, keys) || pages != 11 {
			t.Fatalf("paginated %d keys in %d pages, want %d in 11", len(got), pages, len(keys))
		}
	})
	t.Run("v1 marker pages", func(t *testing.T) {
		var got []string
		marker := ""
		for {
			out := must[*s3.ListObjectsOutput](t)(e.s3.ListObjects(c, &s3.ListObjectsInput{Bucket: aws.String("many"), Marker: aws.String(marker), MaxKeys: aws.Int32(777)}))
			for _, o := range out.Contents {
				got = append(got, aws.ToString(o.Key))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			marker = got[len(got)-1]
		}
		if !equalStrings(got, keys) {
			t.Fatalf("v1 listed %d keys, want %d", len(got), len(keys))
		}
	})
	t.Run("delimiter collapses 10,000 keys", func(t *testing.T) {
		out := must[*s3.ListObjectsV2Output](t)(e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String("many"), Delimiter: aws.String("/")}))
		if len(out.Contents) != 0 || len(out.CommonPrefixes) != 51 || aws.ToString(out.CommonPrefixes[0].Prefix) != "k/" {
			t.Fatalf("got %d keys %d prefixes", len(out.Contents), len(out.CommonPrefixes))
		}
	})
	t.Run("start after deep", func(t *testing.T) {
		out := must[*s3.ListObjectsV2Output](t)(e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String("many"), StartAfter: aws.String("k/09997"), MaxKeys: aws.Int32(4)}))
		var ks []string
		for _, o := range out.Contents {
			ks = append(ks, aws.ToString(o.Key))
		}
		if !equalStrings(ks, []string{"k/09998", "k/09999", "p00/x", "p01/x"}) {
			t.Fatalf("got %q", ks)
		}
	})
}
