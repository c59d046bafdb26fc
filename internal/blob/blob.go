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
	"time"
)

// Errors returned by every Store. Backends wrap them with %w.
var (
	// ErrNotFound means no blob has the given name.
	ErrNotFound = errors.New("blob: not found")
	// ErrExists means Put was given a name that is already taken.
	ErrExists = errors.New("blob: already exists")
	// ErrInvalidName means the name breaks the rules of ValidName.
	ErrInvalidName = errors.New("blob: invalid name")
	// ErrNoInfo means the store cannot list blobs with their ages (see ListInfo).
	ErrNoInfo = errors.New("blob: store lists no write times")
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
	//
	// A listing is a hint, not a snapshot: on a shared store (S3-compatible stores with
	// eventually consistent listings, a directory other nodes write to) it may miss blobs
	// written just before or during it and show blobs deleted just before or during it. So a
	// collector must never delete on a listing alone: it deletes a listed blob only when no
	// reference to it exists when checked after the listing, and only when the blob is older
	// than a grace period longer than any write in flight (a blob is written before the
	// metadata that references it is committed, possibly on another node). ListInfo gives
	// the ages; a deletion of a blob already gone answers ErrNotFound, which a collector
	// treats as done.
	List(ctx context.Context, prefix string, fn func(name string, size int64) error) error
}

// Info describes a listed blob.
type Info struct {
	Name string
	Size int64
	// Modified is when the blob was written, by the store's clock (which may differ from
	// the caller's: compare with a margin).
	Modified time.Time
}

// InfoLister is implemented by stores that can say when each blob was written, which a
// collector needs to leave young blobs alone (see Store.List). Every backend in this module
// implements it; use ListInfo to call it.
type InfoLister interface {
	// ListInfo is List with each blob's Info.
	ListInfo(ctx context.Context, prefix string, fn func(Info) error) error
}

// ListInfo lists s like Store.List, with ages. It fails with ErrNoInfo when s cannot say when
// its blobs were written, rather than report them all as old.
func ListInfo(ctx context.Context, s Store, prefix string, fn func(Info) error) error {
	l, ok := s.(InfoLister)
	if !ok {
		return ErrNoInfo
	}
	return l.ListInfo(ctx, prefix, fn)
}

// Janitor is implemented by stores that keep leftovers of their own beside the blobs: the
// temp files of a Put whose process died (fsblob), the unfinished multipart uploads of one
// (s3blob). They are invisible to Store and to the metadata, so only the store can remove
// them; a server sharing the store with other nodes calls Clean now and then.
type Janitor interface {
	// Clean removes the leftovers of Puts begun (or, where the store can tell, last written
	// to) before cutoff, and returns how many it removed. cutoff must lie further in the past
	// than the longest Put in flight on any node sharing the store, plus the clock skew between
	// them: a leftover's age is all that tells it from a live write.
	Clean(ctx context.Context, cutoff time.Time) (int, error)
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
