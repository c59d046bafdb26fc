package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/secret/secrettest"
)

func TestUsageErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "usage: coffer"},
		{"unknown command", []string{"serve"}, 2, `unknown command "serve"`},
		{"missing data", []string{"server"}, 2, "--data DIR is required"},
		{"unknown flag", []string{"server", "--data", "x", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"stray argument", []string{"server", "--data", "x", "extra"}, 2, `unexpected argument "extra"`},
		{"bad log level", []string{"server", "--data", "x", "--log-level", "loud"}, 2, "bad --log-level"},
		{"bad log format", []string{"server", "--data", "x", "--log-format", "xml"}, 2, "--log-format must be text or json"},
		{"data is a file", []string{"server", "--data", file, "--listen", "127.0.0.1:0"}, 1, "data directory"},
		{"bad listen address", []string{"server", "--data", t.TempDir(), "--listen", "256.0.0.1:99999"}, 1, "listen"},
		{"hsm PIN on the command line", []string{"server", "--data", "x", "--hsm", "name=c,module=m,token=t,pin=123456"}, 2, "never given on the command line"},
		{"hsm without a PIN source", []string{"server", "--data", "x", "--hsm", "name=c,module=m,token=t"}, 2, "pin-file= and pin-env="},
		{"hsm named twice", []string{"server", "--data", "x", "--hsm", "name=c,module=m,token=t,pin-env=P", "--hsm", "name=c,module=m,token=u,pin-env=P"}, 2, "configured twice"},
		{"half a certificate", []string{"server", "--data", t.TempDir(), "--tls-cert", "c.pem"}, 1, "--tls-key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb, func(string) string { return "" })
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, errb.String())
			}
			msg := errb.String()
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("stderr %q does not say %q", msg, tc.want)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Fatalf("error is not one line: %q", msg)
			}
			if strings.Contains(msg, "goroutine ") || strings.Contains(msg, "panic") {
				t.Fatalf("stack trace in %q", msg)
			}
		})
	}
}

func TestServerFirstStart(t *testing.T) {
	dir := t.TempDir()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"server", "--data", dir, "--listen", "127.0.0.1:0", "--log-level", "warn"}, &out, &errb, func(string) string { return "" })
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "aws --endpoint-url") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner; stdout %q stderr %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	banner := out.String()
	for _, want := range []string{"endpoint:    https://127.0.0.1:", "certificate: " + filepath.Join(dir, "tls", "cert.pem"), "secret key:", "AWS_CA_BUNDLE="} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	for _, f := range []string{"tls/key.pem", "credentials.json"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	// SIGTERM stops the server cleanly.
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after SIGTERM; stderr %q", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
	// The secret shown is stored only sealed: no file holds it in any form.
	var shown string
	for _, line := range strings.Split(banner, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "secret" && f[1] == "key:" {
			shown = f[2]
		}
	}
	if len(shown) != 40 {
		t.Fatalf("no 40-character secret key in the banner:\n%s", banner)
	}
	secrettest.ScanDir(t, dir, map[string][]byte{"root secret key": []byte(shown)}, 4)
	// A second start reuses the credentials and does not print the secret again.
	out.Reset()
	go func() {
		done <- run([]string{"server", "--data", dir, "--listen", "127.0.0.1:0", "--log-level", "warn"}, &out, &errb, func(string) string { return "" })
	}()
	for !strings.Contains(out.String(), "aws --endpoint-url") {
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Contains(out.String(), "secret key:") {
		t.Errorf("secret printed again on the second start:\n%s", out.String())
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after SIGINT", code)
	}
}
