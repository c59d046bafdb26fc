package s3api

import (
	"io"
	"net/http"
	"time"
)

// A body transfer may take as long as it needs while it makes progress; a client that stalls
// is cut off after the idle timeout, so it cannot hold a connection, a buffer and open blobs
// for ever. Each read or write of a body pushes the connection's deadline forward.

// DefaultBodyIdleTimeout is how long a request or response body may make no progress.
const DefaultBodyIdleTimeout = 2 * time.Minute

// idleReader extends the connection's read deadline before each read.
type idleReader struct {
	r  io.Reader
	rc *http.ResponseController
	d  time.Duration
}

func (i idleReader) Read(p []byte) (int, error) {
	_ = i.rc.SetReadDeadline(time.Now().Add(i.d)) // unsupported only on connections we do not serve
	return i.r.Read(p)
}

// idleWriter extends the connection's write deadline before each write.
type idleWriter struct {
	w  io.Writer
	rc *http.ResponseController
	d  time.Duration
}

func (i idleWriter) Write(p []byte) (int, error) {
	_ = i.rc.SetWriteDeadline(time.Now().Add(i.d))
	return i.w.Write(p)
}
