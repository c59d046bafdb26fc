package fsblob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/blob"
)

// TempGrace is how long NewShared and SweepTemp leave a temp file alone after its last write.
// A Put in flight writes its temp file at least every BodyIdleTimeout (two minutes by default:
// a body that stalls longer is cut off) and links it right after its last write and fsync, so
// an hour also absorbs clock skew between the hosts sharing the directory.
const TempGrace = time.Hour

// NewShared opens (creating if needed) a store rooted at dir for use by several processes at
// once, on one host or on several over a shared file system (NFSv4, CephFS, a cluster file
// system). It is New but for the temp files: it removes only those idle for TempGrace, which
// belong to writers that died; those of live writers on other nodes stay.
//
// What makes the sharing safe:
//   - temp file names carry the host name, the process id and 64 random bits, and are created
//     with O_EXCL, so two writers never share one whatever the file system does with O_EXCL;
//   - a blob is published with link(2), which fails if the name exists: of two nodes putting
//     one name exactly one wins and the other gets blob.ErrExists (rename(2) would replace;
//     renameat2's RENAME_NOREPLACE is not supported over NFS, link is). On NFS a LINK retried
//     after a lost reply may answer EEXIST although it was ours: link tells that case from a
//     real loser by comparing the name's file with the temp file;
//   - every directory change is fsynced before Put returns, and directories are never removed,
//     so no node links into a directory another node is removing.
//
// Two limits of a network file system remain: a reader opened before another node deletes
// the blob may fail (NFS has no open-unlinked files across clients), and List may not show
// another node's blobs of the last few seconds (attribute caching): see blob.Store.List.
func NewShared(dir string) (*Store, error) {
	cutoff := time.Now().Add(-TempGrace)
	return open(dir, func(fi fs.FileInfo) bool { return !fi.ModTime().Before(cutoff) })
}

// SweepTemp removes the temp files last written before cutoff: those of Puts whose process
// died. Pass a cutoff at least TempGrace in the past when other processes share the directory.
// It returns how many it removed.
func (s *Store) SweepTemp(ctx context.Context, cutoff time.Time) (int, error) {
	return s.sweepTemp(ctx, func(fi fs.FileInfo) bool { return !fi.ModTime().Before(cutoff) })
}

var _ blob.Janitor = (*Store)(nil)

// Clean implements blob.Janitor: it is SweepTemp.
func (s *Store) Clean(ctx context.Context, cutoff time.Time) (int, error) {
	return s.SweepTemp(ctx, cutoff)
}

// sweepTemp removes the temp files keep does not claim.
func (s *Store) sweepTemp(ctx context.Context, keep func(fs.FileInfo) bool) (int, error) {
	ents, err := os.ReadDir(s.tmp)
	if err != nil {
		return 0, fmt.Errorf("fsblob: read temp dir: %w", err)
	}
	removed := 0
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return removed, fmt.Errorf("fsblob: sweep temp dir: %w", err)
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // linked and removed by its writer meanwhile
		}
		if err != nil {
			return removed, fmt.Errorf("fsblob: sweep temp dir: %w", err)
		}
		if keep(fi) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.tmp, e.Name())); err != nil {
			return removed, fmt.Errorf("fsblob: remove leftover temp file: %w", err)
		}
		removed++
	}
	return removed, nil
}

// createTemp creates a new temp file, mode 0600, with a name no other writer, on this host or
// another, can choose.
func (s *Store) createTemp() (*os.File, error) {
	var rnd [8]byte
	for range 10 {
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, err
		}
		p := filepath.Join(s.tmp, fmt.Sprintf("put-%s-%d-%s", s.host, os.Getpid(), hex.EncodeToString(rnd[:])))
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, errors.New("no free temp file name")
}

// hostTag is the host name reduced to bytes safe in a file name, for telling whose temp
// files are whose.
func hostTag() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "host"
	}
	h = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, h)
	return h[:min(len(h), 64)]
}

// link publishes the temp file tmp as dst, failing with blob.ErrExists if dst exists.
func link(tmp, dst string) error {
	err := os.Link(tmp, dst)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	// EEXIST: another writer holds the name, or (NFS) our own LINK was retried after its
	// reply was lost. Only in the second case is the name's file our temp file.
	ours, terr := os.Lstat(tmp)
	theirs, derr := os.Lstat(dst)
	if terr == nil && derr == nil && os.SameFile(ours, theirs) {
		return nil
	}
	return blob.ErrExists
}
