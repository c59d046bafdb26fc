package s3api

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/object"
)

// storedHeaders are the standard headers kept with an object and returned with it.
var storedHeaders = []string{"Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires"}

// objectHeaders collects the standard and x-amz-meta-* headers to store with an object.
func objectHeaders(r *http.Request) (std, user map[string]string) {
	std = map[string]string{}
	for _, k := range storedHeaders {
		if v := r.Header.Get(k); v != "" {
			std[k] = v
		}
	}
	if ce, ok := std["Content-Encoding"]; ok {
		if rest := withoutAWSChunked(ce); rest == "" {
			delete(std, "Content-Encoding")
		} else {
			std["Content-Encoding"] = rest
		}
	}
	user = map[string]string{}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-meta-") && len(lk) > len("x-amz-meta-") {
			user[lk[len("x-amz-meta-"):]] = strings.Join(vs, ",")
		}
	}
	return std, user
}

// withoutAWSChunked removes the aws-chunked coding from a Content-Encoding value: it is
// transfer framing, not a property of the object. The other codings stay exactly as sent.
func withoutAWSChunked(ce string) string {
	var keep []string
	for p := range strings.SplitSeq(ce, ",") {
		if !strings.EqualFold(strings.TrimSpace(p), "aws-chunked") {
			keep = append(keep, p)
		}
	}
	return strings.TrimSpace(strings.Join(keep, ","))
}

// expectFromRequest reads Content-MD5 and the flexible checksum headers of a write.
func expectFromRequest(q *request) (object.Expect, error) {
	var e object.Expect
	h := q.r.Header
	if v, ok := h["Content-Md5"]; ok {
		raw, err := base64.StdEncoding.DecodeString(strings.Join(v, ""))
		if err != nil || len(raw) != 16 {
			return e, errInvalidDigest
		}
		e.ContentMD5 = raw
	}
	if alg := h.Get("x-amz-sdk-checksum-algorithm"); alg != "" {
		if e.Algorithm = object.NormalizeAlgorithm(alg); e.Algorithm == "" {
			return e, &apiError{"InvalidRequest", http.StatusBadRequest, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"}
		}
	}
	for _, a := range object.Algorithms {
		v := h.Get("x-amz-checksum-" + strings.ToLower(a))
		if v == "" {
			continue
		}
		if e.Value != "" {
			return e, &apiError{"InvalidRequest", http.StatusBadRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."}
		}
		if e.Algorithm != "" && e.Algorithm != a {
			// S3 documents BadDigest for a checksum header of another algorithm than
			// x-amz-sdk-checksum-algorithm names.
			return e, badDigest(e.Algorithm)
		}
		if !object.ValidChecksumValue(a, v) {
			return e, &apiError{"InvalidRequest", http.StatusBadRequest, "Value for x-amz-checksum-" + strings.ToLower(a) + " header is invalid."}
		}
		e.Algorithm, e.Value = a, v
	}
	if tr := h.Get("x-amz-trailer"); tr != "" {
		name := strings.ToLower(strings.TrimSpace(tr))
		a := object.NormalizeAlgorithm(strings.TrimPrefix(name, "x-amz-checksum-"))
		if a == "" || !strings.HasPrefix(name, "x-amz-checksum-") || (e.Algorithm != "" && e.Algorithm != a) || e.Value != "" {
			return e, &apiError{"InvalidRequest", http.StatusBadRequest, "The value specified in the x-amz-trailer header is not supported"}
		}
		e.Algorithm = a
		auth := q.auth
		e.Trailer = func() (string, bool) {
			v := auth.Trailer.Get(name)
			return v, v != "" && object.ValidChecksumValue(a, v)
		}
	}
	return e, nil
}

// verifyBytes checks a fully read body against its expected digests.
func verifyBytes(body []byte, e object.Expect) error {
	return object.VerifyBytes(bytes.NewReader(body), e)
}

// setObjectHeaders writes the headers describing o on a GET, HEAD or PUT response.
func setObjectHeaders(w http.ResponseWriter, o object.Object) {
	hd := w.Header()
	hd.Set("ETag", `"`+o.ETag+`"`)
	hd.Set("Last-Modified", o.LastModified.UTC().Format(http.TimeFormat))
	setSSEHeaders(w, o.Encryption)
	for _, k := range storedHeaders {
		if v, ok := o.Headers[k]; ok {
			hd.Set(k, v)
		}
	}
	if hd.Get("Content-Type") == "" {
		hd.Set("Content-Type", "binary/octet-stream")
	}
	for k, v := range o.UserMeta {
		// Lower case as S3 sends it, bypassing Go's canonical form: clients such as botocore
		// take the metadata key's case from the header name.
		hd["x-amz-meta-"+k] = []string{v}
	}
}

// setChecksumHeaders writes the stored checksums of an object or part.
func setChecksumHeaders(w http.ResponseWriter, sums map[string]string, ctype string) {
	for a, v := range sums {
		w.Header().Set("x-amz-checksum-"+strings.ToLower(a), v)
	}
	if len(sums) > 0 && ctype != "" {
		w.Header().Set("x-amz-checksum-type", ctype)
	}
}

// parseHTTPTime parses the date formats HTTP allows in conditional headers.
func parseHTTPTime(v string) (time.Time, bool) {
	t, err := http.ParseTime(v)
	return t, err == nil
}
