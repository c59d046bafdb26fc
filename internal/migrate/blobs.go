package migrate

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/coffer/coffer/internal/blob"
)

const digestLen = sha256.Size

// digest is the SHA-256 of a record's bytes.
func digest(b []byte) [digestLen]byte { return sha256.Sum256(b) }

// listBlobs returns the names and sizes of every blob of s.
func listBlobs(ctx context.Context, s blob.Store) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.List(ctx, "", func(name string, size int64) error {
		out[name] = size
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migrate: listing blobs: %w", err)
	}
	return out, nil
}

// hashBlob streams a blob through SHA-256 and returns its size and digest.
func hashBlob(ctx context.Context, s blob.Store, name string) (int64, [digestLen]byte, error) {
	var sum [digestLen]byte
	r, err := s.Open(ctx, name)
	if err != nil {
		return 0, sum, fmt.Errorf("migrate: blob %s: %w", name, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		return 0, sum, fmt.Errorf("migrate: blob %s: %w", name, err)
	}
	h.Sum(sum[:0])
	return n, sum, nil
}

// sameBlob reports whether blob name is the same in a and b: the same size and SHA-256.
func sameBlob(ctx context.Context, a, b blob.Store, name string) (bool, error) {
	na, da, err := hashBlob(ctx, a, name)
	if err != nil {
		return false, err
	}
	nb, db, err := hashBlob(ctx, b, name)
	if err != nil {
		return false, err
	}
	return na == nb && da == db, nil
}

// copyBlobs copies every blob of src that dst lacks, streamed. A blob already in dst is kept
// when it is the same as src's (an interrupted run); any other blob of dst is refused.
func copyBlobs(ctx context.Context, src, dst blob.Store) (copied, kept int, err error) {
	have, err := listBlobs(ctx, src)
	if err != nil {
		return 0, 0, err
	}
	there, err := listBlobs(ctx, dst)
	if err != nil {
		return 0, 0, err
	}
	for _, name := range slices.Sorted(maps.Keys(there)) {
		if _, ok := have[name]; !ok {
			return 0, 0, fmt.Errorf("%w: the destination's blob store holds %s, which the source has not; give an empty blob store", ErrNotEmpty, name)
		}
		same, err := sameBlob(ctx, src, dst, name)
		if err != nil {
			return 0, 0, err
		}
		if !same {
			return 0, 0, fmt.Errorf("%w: the destination's blob %s differs from the source's; give an empty blob store", ErrNotEmpty, name)
		}
		kept++
	}
	for _, name := range slices.Sorted(maps.Keys(have)) {
		if _, ok := there[name]; ok {
			continue
		}
		if err := copyBlob(ctx, src, dst, name); err != nil {
			return copied, kept, err
		}
		copied++
	}
	return copied, kept, nil
}

// copyBlob streams one blob from src to dst.
func copyBlob(ctx context.Context, src, dst blob.Store, name string) error {
	r, err := src.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("migrate: blob %s: %w", name, err)
	}
	defer r.Close()
	n, err := dst.Put(ctx, name, io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		return fmt.Errorf("migrate: copying blob %s: %w", name, err)
	}
	if n != r.Size() {
		return fmt.Errorf("migrate: copying blob %s: %d of %d bytes", name, n, r.Size())
	}
	return nil
}

// compareBlobs compares every blob of a and b, and returns a's count and bytes.
func compareBlobs(ctx context.Context, a, b blob.Store, aName, bName string, diffs *differences) (int, int64, error) {
	inA, err := listBlobs(ctx, a)
	if err != nil {
		return 0, 0, err
	}
	inB, err := listBlobs(ctx, b)
	if err != nil {
		return 0, 0, err
	}
	var bytes int64
	for _, name := range slices.Sorted(maps.Keys(inA)) {
		bytes += inA[name]
		if _, ok := inB[name]; !ok {
			diffs.add(fmt.Sprintf("blob %s: only in %s", name, aName))
			continue
		}
		same, err := sameBlob(ctx, a, b, name)
		if err != nil {
			return 0, 0, err
		}
		if !same {
			diffs.add(fmt.Sprintf("blob %s: differs (size or SHA-256)", name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(inB)) {
		if _, ok := inA[name]; !ok {
			diffs.add(fmt.Sprintf("blob %s: only in %s", name, bName))
		}
	}
	return len(inA), bytes, nil
}
