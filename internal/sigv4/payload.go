package sigv4

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// payloadMode is how the body is bound to the signature.
type payloadMode uint8

const (
	modeHex                      payloadMode = iota // x-amz-content-sha256 is the body's SHA-256
	modeUnsigned                                    // UNSIGNED-PAYLOAD
	modeStreaming                                   // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	modeStreamingTrailer                            // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	modeStreamingUnsignedTrailer                    // STREAMING-UNSIGNED-PAYLOAD-TRAILER
	modeBuffered                                    // no x-amz-content-sha256: body read and hashed by Verify
)

// streaming reports a chunked body (aws-chunked), whose reader verifies each chunk's signature
// as it is read.
func (m payloadMode) streaming() bool {
	return m == modeStreaming || m == modeStreamingTrailer || m == modeStreamingUnsignedTrailer
}

// classifyPayload maps an x-amz-content-sha256 value to a payload mode; for a
// hex hash it decodes the digest into want.
func classifyPayload(v string, want *[sha256.Size]byte) (payloadMode, error) {
	switch v {
	case UnsignedPayload:
		return modeUnsigned, nil
	case StreamingPayload:
		return modeStreaming, nil
	case StreamingPayloadTrailer:
		return modeStreamingTrailer, nil
	case StreamingUnsignedPayloadTrailer:
		return modeStreamingUnsignedTrailer, nil
	case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
		return 0, fmt.Errorf("%w: SigV4a streaming payload", ErrUnsupportedSignature)
	}
	if len(v) == 2*sha256.Size {
		if _, err := hex.Decode(want[:], []byte(v)); err == nil {
			return modeHex, nil
		}
	}
	return 0, fmt.Errorf("%w: %.70q", ErrInvalidContentSHA256, v)
}

// setBody installs Auth.Body (and DecodedLength, Trailer) for the mode.
func setBody(r *http.Request, a *Auth, mode payloadMode, want [sha256.Size]byte, buffered []byte,
	sg *signer, amzDate, scope string, seed [32]byte) error {
	src := r.Body
	if src == nil {
		src = http.NoBody
	}
	switch mode {
	case modeUnsigned:
		a.Body = src
	case modeHex:
		a.Body = &hashReader{src: src, h: sha256.New(), want: want}
	case modeBuffered:
		a.Body = &bufferedBody{Reader: bytes.NewReader(buffered), src: src}
		a.DecodedLength = int64(len(buffered))
	default:
		cfg := chunkConfig{
			signed:   mode != modeStreamingUnsignedTrailer,
			trailer:  mode != modeStreaming,
			amzDate:  amzDate,
			scope:    scope,
			seed:     seed,
			declared: -1,
		}
		if vs, ok := r.Header["X-Amz-Decoded-Content-Length"]; ok {
			n, err := strconv.ParseInt(vs[0], 10, 64)
			if err != nil || n < 0 || vs[0][0] == '+' {
				return fmt.Errorf("%w: invalid x-amz-decoded-content-length", ErrMalformedChunk)
			}
			cfg.declared = n
		}
		if cfg.trailer {
			for _, v := range r.Header["X-Amz-Trailer"] {
				for name := range strings.SplitSeq(v, ",") {
					if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
						cfg.allowed = append(cfg.allowed, name)
					}
				}
			}
			if len(cfg.allowed) > maxTrailers {
				return fmt.Errorf("%w: too many trailers declared", ErrMalformedChunk)
			}
		}
		a.Trailer = make(http.Header, len(cfg.allowed))
		if !cfg.signed {
			sg = nil
		}
		a.Body = newChunkReader(src, sg, cfg, a.Trailer)
		a.DecodedLength = cfg.declared
	}
	return nil
}

// hashReader passes the body through and, at its end, compares its SHA-256
// with the signed value, returning ErrContentSHA256Mismatch instead of io.EOF
// when they differ.
type hashReader struct {
	src  io.ReadCloser
	h    hash.Hash
	want [sha256.Size]byte
	err  error
}

func (r *hashReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.src.Read(p)
	r.h.Write(p[:n])
	switch {
	case err == io.EOF:
		var sum [sha256.Size]byte
		if subtle.ConstantTimeCompare(r.h.Sum(sum[:0]), r.want[:]) != 1 {
			r.err = ErrContentSHA256Mismatch
		} else {
			r.err = io.EOF
		}
		if n > 0 {
			return n, nil
		}
		return 0, r.err
	case errors.Is(err, io.ErrUnexpectedEOF):
		r.err = fmt.Errorf("%w: body ended early", ErrIncompleteBody)
		return n, r.err
	}
	return n, err
}

func (r *hashReader) Close() error { return r.src.Close() }

// bufferedBody replays a body Verify had to read to hash it.
type bufferedBody struct {
	*bytes.Reader
	src io.Closer
}

func (b *bufferedBody) Close() error { return b.src.Close() }
