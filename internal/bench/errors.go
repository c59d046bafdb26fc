package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// usageError is a bad command line: exit code 2 and a one-line message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errorCode names a failed request's cause for the errors column: the service's error code
// when it answered with one, otherwise the HTTP status or the kind of transport failure.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		return ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		return "HTTP" + strconv.Itoa(re.HTTPStatusCode())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Timeout"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "Timeout"
	}
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &ce) {
		return "TLSError"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "ConnectionError"
	}
	var nc *sseNotConfirmedError
	if errors.As(err, &nc) {
		return "SSENotConfirmed"
	}
	var se *shortReadError
	if errors.As(err, &se) {
		return "ShortRead"
	}
	return "ClientError"
}

// shortReadError is a GET whose body ended before the object's size.
type shortReadError struct{ got, want int64 }

func (e *shortReadError) Error() string {
	return "short read: got " + strconv.FormatInt(e.got, 10) + " of " + strconv.FormatInt(e.want, 10) + " bytes"
}

// oneLine keeps an error message to one line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// sseNotConfirmedError is a response that lacks the encryption header --sse asked for.
type sseNotConfirmedError struct{ mode string }

func (e *sseNotConfirmedError) Error() string {
	return "the response does not confirm server-side encryption (--sse " + e.mode + "); the server may ignore the headers"
}
