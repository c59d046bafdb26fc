package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// writeFile writes content to a new file named name in a temporary directory, with mode perm.
func writeFile(t *testing.T, name, content string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

// envOf returns a getenv reading env.
func envOf(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// printedConfig runs coffer server --print-config with args and env, and returns what it
// printed, failing the test unless it printed.
func printedConfig(t *testing.T, args []string, env map[string]string) string {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"server", "--print-config"}, args...), &out, &errb, envOf(env))
	if code != 0 {
		t.Fatalf("exit %d; stderr %q", code, errb.String())
	}
	return out.String()
}

// settingsOf parses a printed config.
func settingsOf(t *testing.T, printed string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := toml.Unmarshal([]byte(printed), &m); err != nil {
		t.Fatalf("the printed config does not parse: %v\n%s", err, printed)
	}
	return m
}

// TestConfigPrecedence: for a setting of each kind, the config file overrides the default, the
// environment the file, and the command line the environment; a repeatable flag given at a
// stronger source replaces the weaker source's values rather than adding to them.
func TestConfigPrecedence(t *testing.T) {
	type source struct {
		file string // a line of the config file
		env  string // the environment's value
		flag []string
	}
	kinds := []struct {
		name      string
		key       string
		src       source
		def       any
		file, env any
		flag      any
	}{
		{name: "string", key: "region",
			def: "us-east-1", file: "eu-west-1", env: "ap-south-1", flag: "sa-east-1",
			src: source{`region = "eu-west-1"`, "ap-south-1", []string{"--region", "sa-east-1"}}},
		{name: "duration", key: "audit-roll",
			def: "5m0s", file: "10m0s", env: "1h0m0s", flag: "30s",
			src: source{`audit-roll = "10m"`, "1h", []string{"--audit-roll", "30s"}}},
		{name: "bool", key: "no-audit",
			def: false, file: true, env: false, flag: true,
			src: source{`no-audit = true`, "false", []string{"--no-audit"}}},
		{name: "int", key: "kms-managed-rotation-days",
			def: int64(365), file: int64(90), env: int64(180), flag: int64(30),
			src: source{`kms-managed-rotation-days = 90`, "180", []string{"--kms-managed-rotation-days", "30"}}},
		{name: "repeatable", key: "domain",
			def: []any{}, file: []any{"a.example", "b.example"}, env: []any{"c.example", "d.example"}, flag: []any{"e.example"},
			src: source{`domain = ["a.example", "b.example"]`, "c.example\nd.example", []string{"--domain", "e.example"}}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			file := writeFile(t, "coffer.toml", k.src.file+"\n", 0o600)
			env := map[string]string{envName(k.key): k.src.env}
			steps := []struct {
				name string
				args []string
				env  map[string]string
				want any
			}{
				{"default", nil, nil, k.def},
				{"file over default", []string{"--config", file}, nil, k.file},
				{"environment over file", []string{"--config", file}, env, k.env},
				{"flag over environment", append([]string{"--config", file}, k.src.flag...), env, k.flag},
			}
			for _, s := range steps {
				got := settingsOf(t, printedConfig(t, s.args, s.env))[k.key]
				if !reflect.DeepEqual(got, s.want) {
					t.Errorf("%s: %s = %#v, want %#v", s.name, k.key, got, s.want)
				}
			}
		})
	}
}

// TestConfigFromEnvironmentVariable: COFFER_CONFIG names the file when --config does not.
func TestConfigFromEnvironmentVariable(t *testing.T) {
	file := writeFile(t, "coffer.toml", `listen = "127.0.0.1:9443"`+"\n", 0o640)
	got := settingsOf(t, printedConfig(t, nil, map[string]string{"COFFER_CONFIG": file}))
	if got["listen"] != "127.0.0.1:9443" {
		t.Fatalf("listen = %v, want the file's", got["listen"])
	}
}

// TestConfigErrors: a bad file or setting is refused (exit 2) with a message naming the
// setting, and the line where the file gives one, and never the value, which may be secret.
func TestConfigErrors(t *testing.T) {
	const secret = "hunter2-5581"
	tests := []struct {
		name string
		file string
		perm os.FileMode
		env  map[string]string
		want string
	}{
		{name: "unknown key", file: "listen = \"127.0.0.1:1\"\n\nlisten-https = \"" + secret + "\"\n",
			want: `line 3: unknown key "listen-https"`},
		{name: "underscores", file: "audit_fsync = \"always\"\n",
			want: `line 1: unknown key "audit_fsync" (did you mean audit-fsync?)`},
		{name: "secret written in the file", file: "secret-key = \"" + secret + "\"\n",
			want: `unknown key "secret-key" (secrets are never written in the config file: set secret-key-file`},
		{name: "a table", file: "[server]\nregion = \"" + secret + "\"\n",
			want: `line 1: unknown key "server"`},
		{name: "string for an int", file: "region = \"x\"\nsse-s3-rotation-days = \"" + secret + "\"\n",
			want: "line 2: sse-s3-rotation-days takes an integer"},
		{name: "int for a string", file: "tls-cert = 5581\n",
			want: "line 1: tls-cert takes a string"},
		{name: "string for a bool", file: "no-audit = \"" + secret + "\"\n",
			want: "line 1: no-audit takes true or false"},
		{name: "string for a repeatable flag", file: "domain = \"" + secret + "\"\n",
			want: "line 1: domain takes an array of strings"},
		{name: "bad duration", file: "audit-roll = \"" + secret + "\"\n",
			want: `audit-roll: invalid value (parse error): it takes a duration string such as "5m"`},
		{name: "password in a URL", file: "tls-cert = \"postgres://coffer:" + secret + "@db/coffer\"\n",
			want: "tls-cert holds a password: a config file holds no secrets"},
		{name: "PIN of an HSM", file: "hsm = [\"name=c,module=/m.so,token=t,pin=" + secret + "\"]\n",
			want: "hsm holds a password"},
		{name: "syntax", file: "region = \"" + secret + "\n",
			want: "line 1: "},
		{name: "world-writable file", file: "region = \"eu-west-1\"\n", perm: 0o666,
			want: "is writable by anyone (mode 0666): chmod o-w it"},
		{name: "bad environment value", env: map[string]string{"COFFER_AUDIT_DIGEST_EVERY": secret},
			want: "COFFER_AUDIT_DIGEST_EVERY: invalid value (parse error)"},
		{name: "bad environment bool", env: map[string]string{"COFFER_NO_AUDIT": secret},
			want: "COFFER_NO_AUDIT: invalid value (parse error): it takes true or false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"server", "--data", t.TempDir()}
			if tc.file != "" {
				perm := tc.perm
				if perm == 0 {
					perm = 0o600
				}
				args = append(args, "--config", writeFile(t, "coffer.toml", tc.file, perm))
			}
			var out, errb bytes.Buffer
			code := run(args, &out, &errb, envOf(tc.env))
			msg := errb.String()
			if code != 2 || !strings.Contains(msg, tc.want) {
				t.Fatalf("exit %d (want 2), stderr %q (want %q)", code, msg, tc.want)
			}
			if strings.Contains(out.String()+msg, secret) {
				t.Fatalf("the output shows the value: %q", out.String()+msg)
			}
		})
	}
}

// TestSecretKeyFile: the root key's secret is read from a file only its owner may read, with
// its trailing newline dropped; errors never show it.
func TestSecretKeyFile(t *testing.T) {
	const secret = "environmentSecretKey0123456789abcdefghij"
	t.Run("read", func(t *testing.T) {
		c := &configFlags{secretKeyFile: writeFile(t, "secret-key", secret+"\n", 0o400), accessKeyFile: writeFile(t, "access-key", "AKIAFILEKEY000000001\n", 0o600)}
		ak, sk, err := c.rootKey(envOf(nil))
		if err != nil || ak != "AKIAFILEKEY000000001" || sk != secret {
			t.Fatalf("rootKey = %q, (%d bytes), %v", ak, len(sk), err)
		}
	})
	tests := []struct {
		name    string
		content string
		perm    os.FileMode
		env     map[string]string
		want    string
	}{
		{"group may read", secret, 0o640, nil, "may be read by group or others (mode 0640): chmod 600 it"},
		{"others may read", secret, 0o604, nil, "may be read by group or others (mode 0604)"},
		{"empty", "\n", 0o600, nil, "is empty"},
		{"also in the environment", secret, 0o600, map[string]string{"COFFER_SECRET_KEY": secret}, "both secret-key-file and COFFER_SECRET_KEY are set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, "secret-key", tc.content, tc.perm)
			env := map[string]string{"COFFER_ACCESS_KEY": "AKIAFILEKEY000000001", "COFFER_SECRET_KEY_FILE": file}
			for k, v := range tc.env {
				env[k] = v
			}
			var out, errb bytes.Buffer
			code := run([]string{"server", "--data", t.TempDir(), "--listen", "127.0.0.1:0"}, &out, &errb, envOf(env))
			msg := errb.String()
			if code != 2 || !strings.Contains(msg, "secret-key-file") || !strings.Contains(msg, tc.want) {
				t.Fatalf("exit %d (want 2), stderr %q (want %q)", code, msg, tc.want)
			}
			if strings.Contains(out.String()+msg, secret) {
				t.Fatalf("the output shows the secret: %q", out.String()+msg)
			}
		})
	}
}

// TestPrintConfigRoundTrip: what --print-config prints, read back as the config file, gives
// the same settings; a password in a value is printed REDACTED.
func TestPrintConfigRoundTrip(t *testing.T) {
	file := writeFile(t, "coffer.toml", `
data = "/var/lib/coffer"
listen = "0.0.0.0:9443"
admin-listen = "127.0.0.1:9100"
tls-cert = "/etc/coffer/tls/cert.pem"
tls-key = "/etc/coffer/tls/key.pem"
audit-fsync = "always"
audit-roll-size = 1048576
domain = ["s3.example.com", "s3.example.org"]
hsm = ["name=cluster-a,module=/usr/lib/softhsm/libsofthsm2.so,token=coffer,pin-file=/etc/coffer/hsm.pin"]
secret-key-file = "/etc/coffer/secret-key"
`, 0o600)
	env := map[string]string{"COFFER_REGION": "eu-central-1", "COFFER_LISTEN_HTTP": "http://coffer:pw-5581@127.0.0.1:9080"}
	first := printedConfig(t, []string{"--config", file, "--no-audit"}, env)
	if strings.Contains(first, "pw-5581") || !strings.Contains(first, "coffer:REDACTED@") {
		t.Fatalf("the password is not redacted:\n%s", first)
	}
	want := settingsOf(t, first)
	for k, v := range map[string]any{"region": "eu-central-1", "no-audit": true, "audit-roll-size": int64(1 << 20), "audit-fsync": "always",
		"secret-key-file": "/etc/coffer/secret-key", "domain": []any{"s3.example.com", "s3.example.org"}} {
		if !reflect.DeepEqual(want[k], v) {
			t.Errorf("%s = %#v, want %#v", k, want[k], v)
		}
	}
	printed := strings.ReplaceAll(first, "coffer:REDACTED@", "") // a file holding a password is refused
	second := printedConfig(t, []string{"--config", writeFile(t, "printed.toml", printed, 0o600)}, nil)
	if second != printed {
		t.Fatalf("printed config does not read back the same:\n%s\nthen:\n%s", printed, second)
	}
}

// TestDeployExampleConfig: the hardened example in deploy/ is a valid config file and says
// what it means to.
func TestDeployExampleConfig(t *testing.T) {
	got := settingsOf(t, printedConfig(t, []string{"--config", filepath.Join("..", "..", "deploy", "coffer.toml")}, nil))
	for k, v := range map[string]any{"data": "/var/lib/coffer", "admin-listen": "127.0.0.1:9100", "audit-fsync": "always",
		"listen-http": "", "kms-root-key-file": "/etc/coffer/kms-root.key", "tls-key": "/etc/coffer/tls/key.pem"} {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}
