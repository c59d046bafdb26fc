// Package blob defines the narrow interface through which Coffer keeps object bytes.
//
// A blob is an immutable, named run of bytes. Blobs are written once, whole and durably, read
// at random offsets, and deleted; they are never modified in place. The object layer decides the
// names (unique per write), so a replaced object never shares a blob with its successor and a
// crash can at worst leave an unreferenced blob behind, never a torn one.
//
// Every backend must pass the conformance suite in package blobtest.
package blob

import (
	"context"
	"errors"
	"io"
	"strings"
)

// Errors returned by every Store. Backends wrap them with %w.
var (
	// ErrNotFound means no blob has the given name.
	ErrNotFound = errors.New("blob: not found")
	// ErrExists means Put was given a name that is already taken.
	ErrExists = errors.New("blob: already exists")
	// ErrInvalidName means the name breaks the rules of ValidName.
	ErrInvalidName = errors.New("blob: invalid name")
)

// Store keeps named immutable blobs.
type Store interface {
	// Put stores everything r yields under name. When Put returns nil the blob is durable
	// (it survives a crash or power loss) and visible whole. When r returns an error other than
	// io.EOF, or ctx ends, or the write fails, Put returns an error that wraps it and nothing is
	// visible under name, now or after a crash. Put never replaces an existing blob (ErrExists).
	Put(ctx context.Context, name string, r io.Reader) (int64, error)
	// Open returns a reader of the whole blob (ErrNotFound). A blob deleted while open stays
	// readable through readers opened before the deletion where the backend can manage it.
	Open(ctx context.Context, name string) (Reader, error)
	// Delete removes the blob (ErrNotFound if there is none).
	Delete(ctx context.Context, name string) error
	// List calls fn for each stored blob whose name starts with prefix, in no particular order.
	// It is for maintenance (garbage collection, consistency checks), not for request paths.
	List(ctx context.Context, prefix string, fn func(name string, size int64) error) error
}

// Reader reads one blob at random offsets.
type Reader interface {
	io.ReaderAt
	io.Closer
	// Size is the blob's length in bytes.
	Size() int64
}

// ValidName reports whether name is usable as a blob name: 1 to 255 bytes of [A-Za-z0-9._-]
// in '/'-separated segments, none empty, "." or "..".
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 255 {
		return false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
			if !ok {
				return false
			}
		}
	}
	return true
}
