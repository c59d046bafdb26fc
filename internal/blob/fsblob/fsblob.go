// Package fsblob is a blob.Store that keeps each blob as one file in a local directory.
//
// Layout under the root directory given to New:
//
//	blobs/   the published blobs; name "ab/cd/xyz" is the file blobs/ab~/cd~/xyz
//	tmp/     files being written; anything left here after a crash is removed by New
//
// Directory segments carry a '~' suffix, a byte ValidName never allows, so the blob "a" and the
// blob "a/b" can coexist (file "a" and directory "a~"). Directories are never removed, so callers
// should shard names over a bounded set of directories (for example "ab/cd/<unique id>", with
// the first bytes of a random id) rather than put millions of blobs in one directory or create
// a directory per blob.
//
// Durability: Put writes a temp file, fsyncs it, links it under its name (which fails atomically
// if the name is taken), and fsyncs every directory it changed. A crash at any point leaves
// either no blob or the whole blob under the name, plus at worst a temp file that New removes.
//
// New is for one process at a time on a directory: it deletes the temp files of any other
// writer. Several processes, on one host or on several over a shared file system, use
// NewShared (see shared.go).
package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/coffer/coffer/internal/blob"
)

const (
	blobsDir  = "blobs"
	tmpDir    = "tmp"
	dirSuffix = "~"
	// bufSize bounds the memory one Put uses for copying, whatever the blob size. It has room
	// for three packages of the SSE stream (64 KiB and a tag each), which the encrypting reader
	// then seals in place in it instead of copying them, and it makes one write per 256 KiB.
	bufSize = 256 << 10
)

var (
	_ blob.Store      = (*Store)(nil)
	_ blob.InfoLister = (*Store)(nil)
)

// Store is a filesystem blob.Store. It is safe for concurrent use.
type Store struct {
	blobs string // absolute path of blobs/
	tmp   string // absolute path of tmp/
	host  string // the host's name as temp file names carry it
	bufs  sync.Pool

	mkMu    sync.Mutex // serialises directory creation
	durable sync.Map   // directory path -> struct{}: exists and its entry is synced
}

// New opens (creating if needed) a store rooted at dir and removes temp files left by a crash.
func New(dir string) (*Store, error) {
	return open(dir, func(fs.FileInfo) bool { return false })
}

// open opens (creating if needed) a store rooted at dir, removing the temp files that keep
// does not claim.
func open(dir string, keep func(fs.FileInfo) bool) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	s := newStore(abs)
	for _, d := range []string{abs, s.blobs, s.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("fsblob: create %s: %w", d, err)
		}
	}
	if _, err := s.sweepTemp(context.Background(), keep); err != nil {
		return nil, err
	}
	// Make the skeleton itself durable, so a later fsync of a blob directory is enough.
	for _, d := range []string{filepath.Dir(abs), abs} {
		if err := syncDir(d); err != nil {
			return nil, fmt.Errorf("fsblob: %w", err)
		}
	}
	return s, nil
}

// path maps a valid blob name to its file path.
func (s *Store) path(name string) string {
	segs := strings.Split(name, "/")
	for i := range segs[:len(segs)-1] {
		segs[i] += dirSuffix
	}
	return filepath.Join(s.blobs, filepath.Join(segs...))
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	if !blob.ValidName(name) {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, blob.ErrInvalidName)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	dst := s.path(name)
	if _, err := os.Lstat(dst); err == nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, blob.ErrExists)
	}
	f, err := s.createTemp()
	if err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	tmpName := f.Name()
	defer os.Remove(tmpName) // after Link (or a failure) the temp name is never needed

	n, err := s.fill(ctx, f, r)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	if err := s.ensureDir(filepath.Dir(dst)); err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	if err := link(tmpName, dst); err != nil {
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		// Not durable: take the name back so nothing is visible, as the contract requires.
		os.Remove(dst)
		return 0, fmt.Errorf("fsblob: put %q: %w", name, err)
	}
	return n, nil
}

// fill copies r into f with a pooled bounded buffer, honouring ctx, and fsyncs f.
func (s *Store) fill(ctx context.Context, f *os.File, r io.Reader) (int64, error) {
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			if _, err := f.Write(buf[:m]); err != nil {
				return n, err
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, fmt.Errorf("read body: %w", rerr)
		}
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	return n, nil
}

// ensureDir creates dir (under s.blobs) if needed and makes its entry, and its parents' entries,
// durable. Each directory is synced once per process: a directory that exists after a crash may
// still have an unsynced entry in its parent, so existing directories are treated like new ones.
func (s *Store) ensureDir(dir string) error {
	if _, ok := s.durable.Load(dir); ok {
		return nil
	}
	s.mkMu.Lock()
	defer s.mkMu.Unlock()
	if _, ok := s.durable.Load(dir); ok {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var done []string
	for d := dir; d != s.blobs; d = filepath.Dir(d) {
		if _, ok := s.durable.Load(d); ok {
			break
		}
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
		done = append(done, d)
	}
	for _, d := range done {
		s.durable.Store(d, struct{}{})
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// Open implements blob.Store. The returned reader keeps working if the blob is deleted.
func (s *Store) Open(ctx context.Context, name string) (blob.Reader, error) {
	if !blob.ValidName(name) {
		return nil, fmt.Errorf("fsblob: open %q: %w", name, blob.ErrInvalidName)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fsblob: open %q: %w", name, err)
	}
	f, err := os.Open(s.path(name))
	if err != nil {
		return nil, fmt.Errorf("fsblob: open %q: %w", name, notFound(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fsblob: open %q: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("fsblob: open %q: %w", name, blob.ErrNotFound)
	}
	return &reader{File: f, size: fi.Size()}, nil
}

// notFound maps a missing path to blob.ErrNotFound and leaves other errors alone.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return blob.ErrNotFound
	}
	return err
}

// reader is a blob.Reader over an open file.
type reader struct {
	*os.File
	size int64
}

func (r *reader) Size() int64 { return r.size }

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, name string) error {
	if !blob.ValidName(name) {
		return fmt.Errorf("fsblob: delete %q: %w", name, blob.ErrInvalidName)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsblob: delete %q: %w", name, err)
	}
	p := s.path(name)
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("fsblob: delete %q: %w", name, notFound(err))
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("fsblob: delete %q: %w", name, err)
	}
	return nil
}

// List implements blob.Store. It walks only the directories that can hold names with prefix.
func (s *Store) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	return s.ListInfo(ctx, prefix, func(i blob.Info) error { return fn(i.Name, i.Size) })
}

// ListInfo implements blob.InfoLister: Modified is the file's modification time, the end of
// its writing.
func (s *Store) ListInfo(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	// Start at the deepest directory the prefix fully names: "ab/cd/x" starts at ab~/cd~.
	root, base := s.blobs, ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i+1]
		for _, seg := range strings.Split(prefix[:i], "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, `\`+dirSuffix) {
				return nil // no valid name has such a prefix
			}
			root = filepath.Join(root, seg+dirSuffix)
		}
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && !strings.HasSuffix(d.Name(), dirSuffix) {
				return fs.SkipDir // not ours
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		segs := strings.Split(filepath.ToSlash(rel), "/")
		for i := range segs[:len(segs)-1] {
			segs[i] = strings.TrimSuffix(segs[i], dirSuffix)
		}
		name := base + strings.Join(segs, "/")
		if !strings.HasPrefix(name, prefix) || !blob.ValidName(name) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted during the walk
			}
			return err
		}
		return fn(blob.Info{Name: name, Size: fi.Size(), Modified: fi.ModTime()})
	})
	if err != nil {
		return fmt.Errorf("fsblob: list %q: %w", prefix, err)
	}
	return nil
}

// Inspect opens an existing store rooted at dir for reading only: unlike New it creates no
// directory and removes no temp file, so `coffer admin check` changes nothing. It fails when
// the blobs directory does not exist.
func Inspect(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	s := newStore(abs)
	if _, err := os.Stat(s.blobs); err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	return s, nil
}

func newStore(abs string) *Store {
	return &Store{
		blobs: filepath.Join(abs, blobsDir),
		tmp:   filepath.Join(abs, tmpDir),
		host:  hostTag(),
		bufs:  sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }},
	}
}
