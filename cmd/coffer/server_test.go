package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServerJSONLogsAndMetricsURL runs `coffer server --log-format json --admin-listen`: the
// banner names the /metrics URL, which answers, and every line logged to stderr is a JSON
// object.
func TestServerJSONLogsAndMetricsURL(t *testing.T) {
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"server", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
			"--log-format", "json"}, &out, &errb, func(string) string { return "" })
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "aws --endpoint-url") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner; stdout %q stderr %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var metricsURL string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "metrics:" {
			metricsURL = f[1]
		}
	}
	if !strings.HasPrefix(metricsURL, "http://127.0.0.1:") || !strings.HasSuffix(metricsURL, "/metrics") {
		t.Fatalf("no metrics URL in the banner:\n%s", out.String())
	}
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "# TYPE coffer_requests_total counter") {
		t.Fatalf("%s: %d %.300s", metricsURL, resp.StatusCode, body)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("nothing logged")
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil || rec["level"] == nil {
			t.Errorf("not a JSON log record: %q (%v)", line, err)
		}
	}
}
