package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLuaString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:               `"plain"`,
		`{"a":"b\c"}`:         `"{\"a\":\"b\\c\"}"`,
		"line\nbreak\x7f\x00": `"line\010break\127\000"`,
	} {
		if got := luaString(in); got != want {
			t.Errorf("luaString(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestWRKScript writes a script against a live server and checks it holds one complete signed
// request of the operation.
func TestWRKScript(t *testing.T) {
	l := startLive(t)
	for _, op := range []string{"generate-data-key", "decrypt", "sign"} {
		t.Run(op, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), op+".lua")
			code, out, errOut := l.run(t, l.args("kms", "--op", op, "--wrk-script", path))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "wrk -t2 -c8 -d15s -s "+path) {
				t.Fatalf("no wrk command in %q", out)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			target := map[string]string{"generate-data-key": "GenerateDataKey", "decrypt": "Decrypt", "sign": "Sign"}[op]
			for _, want := range []string{`wrk.method = "POST"`, `wrk.headers["X-Amz-Target"] = "TrentService.` + target + `"`,
				`wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=`, `/kms/aws4_request`, `wrk.headers["Host"]`, `\"KeyId\":`} {
				if !strings.Contains(s, want) {
					t.Errorf("script lacks %q:\n%s", want, s)
				}
			}
		})
	}
}
