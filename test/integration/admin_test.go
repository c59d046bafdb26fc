package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/server"
)

func TestAdminListener(t *testing.T) {
	off, err := server.Start(server.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", AccessKey: testAccessKey, SecretKey: testSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if off.AdminURL != "" {
		t.Fatalf("admin listener on by default at %s", off.AdminURL)
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	off.Shutdown(c)

	srv, err := server.Start(server.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", AccessKey: testAccessKey, SecretKey: testSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(c)
	resp, err := http.Get(srv.AdminURL + "/metrics.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	err = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(m) == 0 {
		t.Fatalf("metrics: status %d, %d entries, %v", resp.StatusCode, len(m), err)
	}
	resp, err = http.Get(srv.AdminURL + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("pprof goroutine profile: %d", resp.StatusCode)
	}
}
