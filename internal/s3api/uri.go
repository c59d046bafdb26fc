package s3api

import (
	"net/http"
	"unicode/utf8"
)

var (
	errInvalidURI                = &apiError{"InvalidURI", http.StatusBadRequest, "Couldn't parse the specified URI."}
	errInvalidCopySourceEncoding = &apiError{"InvalidArgument", http.StatusBadRequest, "Invalid copy source encoding."}
)

// checkURIEncoding refuses a request whose path (bucket, key) or query decodes to bytes that
// are not UTF-8, as S3 does before it looks at anything else: such a key can never name an
// object, so reads must not answer 404 as if it might, and prefixes and markers must not
// compare bytes no key has.
func checkURIEncoding(q *request) error {
	if !utf8.ValidString(q.bucket) || !utf8.ValidString(q.key) {
		return errInvalidURI
	}
	for k, vs := range q.query {
		if !utf8.ValidString(k) {
			return errInvalidURI
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return errInvalidURI
			}
		}
	}
	return nil
}
