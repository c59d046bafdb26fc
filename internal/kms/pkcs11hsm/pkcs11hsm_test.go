package pkcs11hsm

import (
	"strings"
	"testing"
)

func TestParseFlag(t *testing.T) {
	tests := []struct {
		name, flag string
		want       Config
		err        string
	}{
		{"pin file", "name=cluster-a,module=/lib/p11.so,token=T,pin-file=/etc/pin",
			Config{Name: "cluster-a", Module: "/lib/p11.so", Token: "T", PINFile: "/etc/pin"}, ""},
		{"pin env", "name=cluster-a,module=/lib/p11.so,token=T,pin-env=HSM_PIN",
			Config{Name: "cluster-a", Module: "/lib/p11.so", Token: "T", PINEnv: "HSM_PIN"}, ""},
		{"pin on the command line", "name=c,module=m,token=t,pin=1234", Config{}, "never given on the command line"},
		{"no pin source", "name=c,module=m,token=t", Config{}, "exactly one of"},
		{"two pin sources", "name=c,module=m,token=t,pin-file=f,pin-env=E", Config{}, "exactly one of"},
		{"no token", "name=c,module=m,pin-file=f", Config{}, "required"},
		{"unknown setting", "name=c,module=m,token=t,pin-file=f,slot=1", Config{}, "unknown setting"},
		{"not key=value", "name=c,module", Config{}, "want key=value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFlag(tc.flag)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "1234") {
					t.Fatalf("the error shows the PIN: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseFlag = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
