package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
)

// The journal holds the records of the open log file, each fsynced before Record returns. A
// journal segment is one file, journal/<log base name>.jnl:
//
//	header  "COFAJNL" 0x01                    (magic, format version 1)
//	frame*  length  uint32 big-endian          (of payload, 1..maxRecordSize)
//	        crc     uint32 big-endian          (CRC-32C of payload)
//	        payload the record's JSON
//
// A crash can leave a torn tail (a frame cut short, or whose bytes never reached the disk):
// its length runs past the end of the file or its CRC does not match. Such a frame was never
// acknowledged (Record returns only after the fsync of its whole frame), so reading stops there
// and drops it with everything after it.

const (
	journalMagic  = "COFAJNL\x01"
	frameHeader   = 8
	maxRecordSize = 1 << 20
	journalExt    = ".jnl"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrJournal marks a journal segment that is not a journal at all (bad magic or version).
var ErrJournal = errors.New("audit: not a journal segment")

// appendFrame appends the frame of one record payload to b.
func appendFrame(b, payload []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

// journalRead is what reading a journal segment found.
type journalRead struct {
	records [][]byte // the intact records, in write order
	valid   int64    // length of the intact prefix of the file (header and whole frames)
	torn    int64    // bytes after the intact prefix, dropped
}

// readJournal reads a journal segment, stopping at a torn tail.
func readJournal(path string) (journalRead, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return journalRead{}, err
	}
	return parseJournal(data)
}

// parseJournal parses the bytes of a journal segment, stopping at a torn tail. A segment
// whose header is cut short or still zeros (a crash during its creation) holds no records.
func parseJournal(data []byte) (journalRead, error) {
	head := data[:min(len(data), len(journalMagic))]
	if len(head) < len(journalMagic) && bytes.HasPrefix([]byte(journalMagic), head) || !slices.ContainsFunc(head, func(b byte) bool { return b != 0 }) {
		return journalRead{torn: int64(len(data))}, nil
	}
	if string(data[:len(journalMagic)]) != journalMagic {
		return journalRead{}, ErrJournal
	}
	r := journalRead{valid: int64(len(journalMagic))}
	rest := data[len(journalMagic):]
	for len(rest) > 0 {
		if len(rest) < frameHeader {
			break
		}
		n := binary.BigEndian.Uint32(rest)
		sum := binary.BigEndian.Uint32(rest[4:])
		if n == 0 || n > maxRecordSize || int64(n) > int64(len(rest)-frameHeader) {
			break
		}
		payload := rest[frameHeader : frameHeader+int(n)]
		if crc32.Checksum(payload, castagnoli) != sum {
			break
		}
		r.records = append(r.records, payload)
		r.valid += int64(frameHeader + int(n))
		rest = rest[frameHeader+int(n):]
	}
	r.torn = int64(len(data)) - r.valid
	return r, nil
}

// journalFile is the open journal segment, appended to by the writer goroutine only. Its
// file is preallocated ahead of the records (reading as zeros: a zero length ends the
// frames), so an append changes no file size and an fdatasync flushes only the data: half
// the cost of an fsync that must also commit a new size.
type journalFile struct {
	f         *os.File
	path      string
	size      int64 // bytes of header and frames written and fsynced
	allocated int64 // bytes of the file (zeros after size)
}

// journalChunk is how much the journal grows by at a time.
const journalChunk = 1 << 20

// createJournal makes a new segment, its header fsynced and its directory entry durable.
func createJournal(path string) (*journalFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit journal: %w", err)
	}
	j := &journalFile{f: f, path: path}
	if err := j.append([]byte(journalMagic)); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return j, nil
}

// append writes b after the last frame and flushes it to the disk. A failed write is zeroed
// back out so the next append starts on a frame boundary; a failed flush is returned marked
// errSticky (the caller then stops writing: the kernel may have dropped the pages).
func (j *journalFile) append(b []byte) error {
	if end := j.size + int64(len(b)); end > j.allocated {
		if err := j.grow(end); err != nil {
			return err
		}
	}
	if _, err := j.f.WriteAt(b, j.size); err != nil {
		_, _ = j.f.WriteAt(make([]byte, len(b)), j.size)
		return fmt.Errorf("audit journal write: %w", err)
	}
	if err := fdatasync(j.f); err != nil {
		return fmt.Errorf("%w: audit journal fsync: %w", errSticky, err)
	}
	j.size += int64(len(b))
	return nil
}

// grow extends the file (blocks that read as zeros: fallocate, or zeros written where it is
// not supported) to hold at least end bytes, and fsyncs its new size.
func (j *journalFile) grow(end int64) error {
	n := (end + journalChunk - 1) / journalChunk * journalChunk
	if err := preallocate(j.f, j.allocated, n-j.allocated); err != nil {
		if _, err := j.f.WriteAt(make([]byte, n-j.allocated), j.allocated); err != nil {
			_ = j.f.Truncate(j.allocated)
			return fmt.Errorf("audit journal grow: %w", err)
		}
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("%w: audit journal fsync: %w", errSticky, err)
	}
	j.allocated = n
	return nil
}

func (j *journalFile) close() error { return j.f.Close() }

// errSticky marks a failure after which the Writer takes no more records: the durability of
// what it already wrote is in doubt.
var errSticky = errors.New("audit writer stopped")
