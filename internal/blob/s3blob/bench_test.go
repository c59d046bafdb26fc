package s3blob_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/blob/s3blob"
)

// BenchmarkPut measures Puts of 1 MiB into a Coffer server on loopback (one PutObject each):
// go test -run '^$' -bench . ./internal/blob/s3blob/
func BenchmarkPut(b *testing.B) {
	c := startCoffer(b)
	s := c.fresh(b)
	body := randomBytes(1, 1<<20)
	var seq atomic.Int64
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			name := fmt.Sprintf("put/%d", seq.Add(1))
			if _, err := s.Put(context.Background(), name, bytes.NewReader(body)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkOpen measures reading a 1 MiB blob whole in 32 KiB pieces, as the SSE layer reads,
// with the default read-ahead window and without one (a GET per piece).
func BenchmarkOpen(b *testing.B) {
	c := startCoffer(b)
	for _, tc := range []struct {
		name      string
		readAhead int
	}{
		{"readahead-1MiB", s3blob.DefaultReadAhead},
		{"readahead-none", 1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := c.config(c.freshPrefix())
			cfg.ReadAhead = tc.readAhead
			s := storeCfg(b, cfg)
			if _, err := s.Put(context.Background(), "open/1MiB", bytes.NewReader(randomBytes(2, 1<<20))); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(1 << 20)
			b.ResetTimer()
			for b.Loop() {
				r, err := s.Open(context.Background(), "open/1MiB")
				if err != nil {
					b.Fatal(err)
				}
				piece := make([]byte, 32<<10)
				if _, err := io.CopyBuffer(io.Discard, io.NewSectionReader(r, 0, r.Size()), piece); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

// clientPace yields n bytes at about 100 MB/s, as a client uploading through a node would.
type clientPace struct{ n, sent int }

func (c *clientPace) Read(p []byte) (int, error) {
	if c.sent == c.n {
		return 0, io.EOF
	}
	k := min(len(p), c.n-c.sent, 256<<10)
	time.Sleep(time.Duration(k) * 10 * time.Nanosecond) // 10 ns per byte
	c.sent += k
	return k, nil
}

// BenchmarkPutMultipart measures a 32 MiB Put (four parts) from a client sending at about
// 100 MB/s: reading the next part from the client overlaps uploading the current one.
func BenchmarkPutMultipart(b *testing.B) {
	c := startCoffer(b)
	s := c.fresh(b)
	const size = 32 << 20
	b.SetBytes(size)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Put(context.Background(), fmt.Sprintf("mp/%d", i), &clientPace{n: size}); err != nil {
			b.Fatal(err)
		}
	}
}
