package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
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

// parseJournal parses the bytes of a journal segment, stopping at a torn tail. A segment cut
// inside its header (a crash right after its creation) holds no records.
func parseJournal(data []byte) (journalRead, error) {
	if len(data) < len(journalMagic) {
		if !bytes.HasPrefix([]byte(journalMagic), data) {
			return journalRead{}, ErrJournal
		}
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

// journalFile is the open journal segment, appended to by the writer goroutine only.
type journalFile struct {
	f    *os.File
	path string
	size int64 // bytes known written and fsynced
}

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

// append writes b at the end of the segment and fsyncs it. A failed write is cut back off so
// the next append starts on a frame boundary; a failed fsync is returned as is (the caller
// then stops writing: the kernel may have dropped the pages).
func (j *journalFile) append(b []byte) error {
	if _, err := j.f.WriteAt(b, j.size); err != nil {
		_ = j.f.Truncate(j.size)
		return fmt.Errorf("audit journal write: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("%w: audit journal fsync: %w", errSticky, err)
	}
	j.size += int64(len(b))
	return nil
}

func (j *journalFile) close() error { return j.f.Close() }

// errSticky marks a failure after which the Writer takes no more records: the durability of
// what it already wrote is in doubt.
var errSticky = errors.New("audit writer stopped")
