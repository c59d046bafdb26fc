package server

import (
	"runtime"
	"strconv"
	"time"

	"github.com/coffer/coffer/internal/metrics"
	"github.com/coffer/coffer/internal/requestinfo"
)

// serverMetrics are what the admin listener's /metrics shows. Every label value comes from a
// fixed set (API names, operation names, AWS error codes, store operations): never a bucket,
// key, key id or access key.
type serverMetrics struct {
	reg *metrics.Registry
	// requests counts answered requests by api, operation and code: "OK", or the AWS error
	// code of the answer.
	requests *metrics.CounterVec
	duration *metrics.HistogramVec // by api and operation
	// requestBytes and responseBytes count body bytes read and written, by api.
	requestBytes, responseBytes *metrics.CounterVec
	// kmsCalls counts cryptographic and management KMS calls by caller ("api" for the KMS
	// API, "s3" for SSE-KMS data keys S3 asked for), operation and result ("OK" or the KMS
	// exception).
	kmsCalls *metrics.CounterVec
	// storeDuration times the calls into the storage backends by store and operation;
	// storeFailures counts those that failed for another reason than the answer the store
	// interface defines (not found, exists, changed...).
	storeDuration *metrics.HistogramVec
	storeFailures *metrics.CounterVec
}

func newServerMetrics() *serverMetrics {
	reg := metrics.NewRegistry()
	m := &serverMetrics{
		reg: reg,
		requests: reg.Counter("coffer_requests_total",
			"Requests answered, by API (s3, kms, iam, sts, cloudtrail), operation and code (OK, or the AWS error code of the answer).",
			"api", "operation", "code"),
		duration: reg.Histogram("coffer_request_duration_seconds",
			"Time from a request's arrival to the end of its answer, by API and operation.",
			metrics.DurationBuckets(), "api", "operation"),
		requestBytes:  reg.Counter("coffer_request_bytes_total", "Request body bytes read, by API.", "api"),
		responseBytes: reg.Counter("coffer_response_bytes_total", "Response body bytes written, by API.", "api"),
		kmsCalls: reg.Counter("coffer_kms_calls_total",
			"KMS calls by caller (api: the KMS API; s3: data keys for SSE-KMS objects), operation and result (OK or the KMS exception).",
			"caller", "operation", "result"),
		storeDuration: reg.Histogram("coffer_store_duration_seconds",
			"Time spent in storage backend calls, by store (meta, blob, kms) and operation; a blob Put includes streaming the upload.",
			metrics.DurationBuckets(), "store", "operation"),
		storeFailures: reg.Counter("coffer_store_failures_total",
			"Storage backend calls that failed (not counting the answers the store defines, such as not found), by store and operation.",
			"store", "operation"),
	}
	reg.GaugeFunc("coffer_goroutines", "Goroutines that currently exist.", func() float64 { return float64(runtime.NumGoroutine()) })
	start := float64(time.Now().Unix())
	reg.GaugeFunc("coffer_start_time_seconds", "When the process started serving, in seconds since the Unix epoch.", func() float64 { return start })
	return m
}

// observeRequest counts one answered request.
func (m *serverMetrics) observeRequest(api string, info *requestinfo.Info, status int, took time.Duration, in, out int64) {
	op := info.Operation()
	if op == "" {
		op = "unknown" // refused before it was routed: bad signature, unknown operation
	}
	code := info.ErrorCode()
	switch {
	case code != "":
	case status < 400:
		code = "OK"
	default:
		code = strconv.Itoa(status)
	}
	m.requests.With(api, op, code).Inc()
	m.duration.With(api, op).Observe(took.Seconds())
	if in > 0 {
		m.requestBytes.With(api).Add(uint64(in))
	}
	if out > 0 {
		m.responseBytes.With(api).Add(uint64(out))
	}
	if api == "kms" && info.Operation() != "" {
		m.kmsCalls.With("api", op, code).Inc()
	}
}

// s3KMSCall counts a KMS call S3 made for an SSE-KMS object.
func (m *serverMetrics) s3KMSCall(operation, result string) {
	m.kmsCalls.With("s3", operation, result).Inc()
}
