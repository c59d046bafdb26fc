package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strings"
)

const (
	// maxChunkLine caps a chunk-header line ("<hex>;chunk-signature=<64 hex>").
	maxChunkLine = 256
	// maxTrailerLine caps one trailer line (name:value).
	maxTrailerLine = 1024
	// maxTrailers caps the trailers declared in x-amz-trailer.
	maxTrailers = 16
	// chunkBufSize is the read buffer of the chunk decoder.
	chunkBufSize = 16 << 10
)

// chunkConfig describes one aws-chunked body.
type chunkConfig struct {
	signed   bool // chunk signatures present (and verified)
	trailer  bool // trailers may follow the final chunk
	amzDate  string
	scope    string
	seed     [32]byte // the request signature: "previous signature" of chunk 1
	declared int64    // x-amz-decoded-content-length, -1 if absent
	allowed  []string // trailer names declared in x-amz-trailer
}

type chunkState uint8

const (
	stHeader chunkState = iota // at a chunk-header line
	stData                     // inside chunk data
	stDone                     // everything verified
	stFailed                   // err is final
)

// chunkReader decodes aws-chunked framing, verifying chunk and trailer
// signatures as chunks complete. Data of a chunk is released before its
// signature is checked; io.EOF comes only after every check passed.
type chunkReader struct {
	src     io.ReadCloser
	br      *bufio.Reader
	sg      *signer // nil for unsigned chunks
	cfg     chunkConfig
	trailer http.Header

	state     chunkState
	err       error
	remaining int64     // bytes left in the current chunk
	decoded   int64     // payload bytes so far
	claimed   [32]byte  // signature claimed for the current chunk
	prev      [64]byte  // hex of the previous signature
	h         hash.Hash // SHA-256 of the current chunk
	scratch   []byte
}

func newChunkReader(src io.ReadCloser, sg *signer, cfg chunkConfig, trailer http.Header) *chunkReader {
	c := &chunkReader{
		src:     src,
		br:      bufio.NewReaderSize(src, chunkBufSize),
		sg:      sg,
		cfg:     cfg,
		trailer: trailer,
	}
	if sg != nil {
		c.h = sha256.New()
		hex.Encode(c.prev[:], cfg.seed[:])
	}
	return c
}

func (c *chunkReader) Close() error { return c.src.Close() }

func (c *chunkReader) fail(err error) (int, error) {
	c.state, c.err = stFailed, err
	return 0, err
}

// Read implements io.Reader.
func (c *chunkReader) Read(p []byte) (int, error) {
	for {
		switch c.state {
		case stFailed:
			return 0, c.err
		case stDone:
			return 0, io.EOF
		case stHeader:
			if err := c.readChunkHeader(); err != nil {
				return c.fail(err)
			}
		case stData:
			if c.remaining == 0 {
				if err := c.endChunk(); err != nil {
					return c.fail(err)
				}
				continue
			}
			if len(p) == 0 {
				return 0, nil
			}
			if int64(len(p)) > c.remaining {
				p = p[:c.remaining]
			}
			n, err := c.br.Read(p)
			if c.h != nil {
				c.h.Write(p[:n])
			}
			c.remaining -= int64(n)
			c.decoded += int64(n)
			if err != nil && n == 0 {
				return c.fail(srcErr(err))
			}
			return n, nil
		}
	}
}

// srcErr maps an error of the underlying body: an early end is IncompleteBody.
func srcErr(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: body ended inside aws-chunked framing", ErrIncompleteBody)
	}
	return err
}

// readLine reads one CRLF-terminated line of at most max bytes (without CRLF).
// It returns io.EOF, unwrapped, when the body ends cleanly before the line.
func (c *chunkReader) readLine(max int) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		switch {
		case err == bufio.ErrBufferFull:
			return nil, fmt.Errorf("%w: line too long", ErrMalformedChunk)
		case err == io.EOF && len(line) == 0:
			return nil, io.EOF
		}
		return nil, srcErr(err)
	}
	if len(line) > max+2 {
		return nil, fmt.Errorf("%w: line too long", ErrMalformedChunk)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line not terminated by CRLF", ErrMalformedChunk)
	}
	return line[:len(line)-2], nil
}

// readChunkHeader parses "<hex>[;chunk-signature=<sig>]"; for the final chunk
// it also verifies the trailers and the end of the body.
func (c *chunkReader) readChunkHeader() error {
	line, err := c.readLine(maxChunkLine)
	if err != nil {
		return srcErr(err)
	}
	size, sig, err := parseChunkHeader(line, c.sg != nil)
	if err != nil {
		return err
	}
	if c.cfg.declared >= 0 && size > c.cfg.declared-c.decoded {
		return fmt.Errorf("%w: more data than x-amz-decoded-content-length", ErrIncompleteBody)
	}
	c.claimed = sig
	if c.h != nil {
		c.h.Reset()
	}
	if size > 0 {
		c.state, c.remaining = stData, size
		return nil
	}
	if err := c.verifyChunk(); err != nil {
		return err
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	if c.cfg.declared >= 0 && c.decoded != c.cfg.declared {
		return fmt.Errorf("%w: decoded %d bytes, x-amz-decoded-content-length %d", ErrIncompleteBody, c.decoded, c.cfg.declared)
	}
	if _, err := c.br.ReadByte(); err != io.EOF {
		if err == nil {
			return fmt.Errorf("%w: data after the final chunk", ErrMalformedChunk)
		}
		return err
	}
	c.state = stDone
	return nil
}

// parseChunkHeader parses a chunk-header line.
func parseChunkHeader(line []byte, signed bool) (size int64, sig [32]byte, err error) {
	digits, ext, hasExt := bytes.Cut(line, []byte{';'})
	if len(digits) == 0 || len(digits) > 16 {
		return 0, sig, fmt.Errorf("%w: bad chunk size", ErrMalformedChunk)
	}
	for _, d := range digits {
		v, ok := unhex(d)
		if !ok {
			return 0, sig, fmt.Errorf("%w: bad chunk size", ErrMalformedChunk)
		}
		if size > (1<<63-1)>>4 {
			return 0, sig, fmt.Errorf("%w: chunk size overflows", ErrMalformedChunk)
		}
		size = size<<4 | int64(v)
	}
	if !signed {
		if hasExt {
			return 0, sig, fmt.Errorf("%w: unexpected chunk extension", ErrMalformedChunk)
		}
		return size, sig, nil
	}
	v, ok := bytes.CutPrefix(ext, []byte("chunk-signature="))
	if !hasExt || !ok || len(v) != 64 {
		return 0, sig, fmt.Errorf("%w: missing chunk-signature", ErrMalformedChunk)
	}
	if _, err := hex.Decode(sig[:], v); err != nil {
		return 0, sig, fmt.Errorf("%w: bad chunk-signature", ErrMalformedChunk)
	}
	return size, sig, nil
}

// endChunk consumes the CRLF after chunk data and verifies the chunk.
func (c *chunkReader) endChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
		return srcErr(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return fmt.Errorf("%w: chunk data not followed by CRLF", ErrMalformedChunk)
	}
	if err := c.verifyChunk(); err != nil {
		return err
	}
	c.state = stHeader
	return nil
}

// verifyChunk checks the claimed signature of the chunk whose hash is in c.h.
func (c *chunkReader) verifyChunk() error {
	if c.sg == nil {
		return nil
	}
	var sum [sha256.Size]byte
	s := append(c.scratch[:0], "AWS4-HMAC-SHA256-PAYLOAD\n"...)
	s = append(s, c.cfg.amzDate...)
	s = append(s, '\n')
	s = append(s, c.cfg.scope...)
	s = append(s, '\n')
	s = append(s, c.prev[:]...)
	s = append(s, "\n"+emptySHA256+"\n"...)
	s = hex.AppendEncode(s, c.h.Sum(sum[:0]))
	c.scratch = s
	if !hmac.Equal(c.sg.sign(s), c.claimed[:]) {
		return fmt.Errorf("%w: chunk signature", ErrSignatureDoesNotMatch)
	}
	hex.Encode(c.prev[:], c.claimed[:])
	return nil
}

// readTrailers reads the lines after the final chunk up to the empty line:
// the declared trailers and, for signed trailers, x-amz-trailer-signature.
func (c *chunkReader) readTrailers() error {
	type kv struct{ name, value string }
	var got []kv
	var trailerSig [32]byte
	hasSig := false
	for {
		line, err := c.readLine(maxTrailerLine)
		if err != nil {
			// Some clients end the body right after the last trailer line,
			// without the empty line; everything has been read by then.
			if err == io.EOF && c.cfg.trailer && (len(got) > 0 || hasSig) {
				break
			}
			return srcErr(err)
		}
		if len(line) == 0 {
			break
		}
		if hasSig {
			return fmt.Errorf("%w: data after x-amz-trailer-signature", ErrMalformedChunk)
		}
		name, value, ok := strings.Cut(string(line), ":")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if !ok || name == "" || !c.cfg.trailer {
			return fmt.Errorf("%w: unexpected data after the final chunk", ErrMalformedChunk)
		}
		if name == "x-amz-trailer-signature" {
			if !c.cfg.signed {
				return fmt.Errorf("%w: trailer signature in an unsigned payload", ErrMalformedChunk)
			}
			if len(value) != 64 {
				return fmt.Errorf("%w: bad trailer signature", ErrMalformedChunk)
			}
			if _, err := hex.Decode(trailerSig[:], []byte(value)); err != nil {
				return fmt.Errorf("%w: bad trailer signature", ErrMalformedChunk)
			}
			hasSig = true
			continue
		}
		if !slices.Contains(c.cfg.allowed, name) {
			return fmt.Errorf("%w: trailer %.64q not declared in x-amz-trailer", ErrMalformedChunk, name)
		}
		if slices.ContainsFunc(got, func(e kv) bool { return e.name == name }) {
			return fmt.Errorf("%w: duplicate trailer %.64q", ErrMalformedChunk, name)
		}
		got = append(got, kv{name, value})
	}
	if len(got) != len(c.cfg.allowed) {
		return fmt.Errorf("%w: declared trailers missing", ErrMalformedChunk)
	}
	if c.cfg.signed && c.cfg.trailer {
		if !hasSig {
			return fmt.Errorf("%w: missing x-amz-trailer-signature", ErrMalformedChunk)
		}
		slices.SortFunc(got, func(a, b kv) int { return strings.Compare(a.name, b.name) })
		th := sha256.New()
		for _, e := range got {
			th.Write([]byte(e.name + ":" + e.value + "\n"))
		}
		var sum [sha256.Size]byte
		s := append(c.scratch[:0], "AWS4-HMAC-SHA256-TRAILER\n"...)
		s = append(s, c.cfg.amzDate...)
		s = append(s, '\n')
		s = append(s, c.cfg.scope...)
		s = append(s, '\n')
		s = append(s, c.prev[:]...)
		s = append(s, '\n')
		s = hex.AppendEncode(s, th.Sum(sum[:0]))
		if !hmac.Equal(c.sg.sign(s), trailerSig[:]) {
			return fmt.Errorf("%w: trailer signature", ErrSignatureDoesNotMatch)
		}
	}
	for _, e := range got {
		c.trailer[http.CanonicalHeaderKey(e.name)] = []string{e.value}
	}
	return nil
}
