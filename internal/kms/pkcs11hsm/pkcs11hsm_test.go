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
		{"slot", "name=c,module=m,slot=3,pin-file=f,sessions=4", Config{Name: "c", Module: "m", Slot: 3, BySlot: true, PINFile: "f", Sessions: 4}, ""},
		{"slot 0", "name=c,module=m,slot=0,pin-file=f", Config{Name: "c", Module: "m", BySlot: true, PINFile: "f"}, ""},
		{"no token", "name=c,module=m,pin-file=f", Config{}, "exactly one of token= and slot="},
		{"token and slot", "name=c,module=m,token=t,slot=1,pin-file=f", Config{}, "exactly one of token= and slot="},
		{"bad slot", "name=c,module=m,slot=-1,pin-file=f", Config{}, "setting 3: slot= is not a slot number"},
		{"no sessions", "name=c,module=m,token=t,pin-file=f,sessions=0", Config{}, "sessions= is not a number from 1 to 1024"},
		{"no name", "module=m,token=t,pin-file=f", Config{}, "required"},
		{"key label in --hsm", "name=c,module=m,token=t,pin-file=f,key-label=k", Config{}, "unknown setting"},
		{"unknown setting", "name=c,module=m,token=t,pin-file=f,color=1", Config{}, "unknown setting"},
		{"not key=value", "name=c,module", Config{}, "setting 2 is not key=value"},
		{"given twice", "name=c,module=m,token=t,pin-file=f,module=n", Config{}, "setting 5: module= is given twice"},
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

func TestParseRootFlag(t *testing.T) {
	tests := []struct {
		name, flag string
		want       Config
		label      string
		err        string
	}{
		{"token and label", "module=/lib/p11.so,token=T,pin-env=P,key-label=root-wrap",
			Config{Name: RootName, Module: "/lib/p11.so", Token: "T", PINEnv: "P"}, "root-wrap", ""},
		{"slot, default label", "module=m,slot=7,pin-file=f", Config{Name: RootName, Module: "m", Slot: 7, BySlot: true, PINFile: "f"}, "", ""},
		{"name is --hsm's", "name=c,module=m,token=t,pin-file=f", Config{}, "", "unknown setting"},
		{"pin on the command line", "module=m,token=t,pin=1234", Config{}, "", "never given on the command line"},
		{"no module", "token=t,pin-file=f", Config{}, "", "required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, label, err := ParseRootFlag(tc.flag)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "1234") {
					t.Fatalf("err = %v, want %q (and no PIN)", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want || label != tc.label {
				t.Fatalf("ParseRootFlag = %+v, %q, %v; want %+v, %q", got, label, err, tc.want, tc.label)
			}
		})
	}
}

// TestParseErrorsHidePIN pastes a PIN where a setting belongs, in every way a parse can fail:
// no error of either parser may show it, only the setting's position or key.
func TestParseErrorsHidePIN(t *testing.T) {
	const pin = "7319-4482"
	tests := []struct {
		name, flag string
		root       bool
		want       string
	}{
		{"bare value", "name=a,module=/x," + pin, false, "setting 3 is not key=value"},
		{"bare value, root", "module=/x,token=t," + pin, true, "setting 3 is not key=value"},
		{"PIN as a key", "name=a,module=/x," + pin + "=1", false, "setting 3: unknown setting"},
		{"PIN as an unknown key's value", "name=a,module=/x,pn=" + pin, false, "setting 3: unknown setting"},
		{"PIN as an unknown key's value, root", "module=/x,pinn=" + pin, true, "setting 2: unknown setting"},
		{"name in --kms-root-pkcs11", "name=" + pin + ",module=/x", true, "setting 1: unknown setting"},
		{"key-label in --hsm", "name=a,key-label=" + pin, false, "setting 2: unknown setting"},
		{"pin=", "name=a,module=/x,pin=" + pin, false, "never given on the command line"},
		{"empty key", "name=a,=" + pin, false, "setting 2 is not key=value"},
		{"PIN as a slot", "name=a,module=/x,slot=" + pin, false, "setting 3: slot= is not a slot number"},
		{"PIN as sessions", "module=/x,sessions=" + pin, true, "setting 2: sessions= is not a number"},
		{"PIN given twice", "name=a,pin-env=" + pin + ",pin-env=" + pin, false, "setting 3: pin-env= is given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.root {
				_, _, err = ParseRootFlag(tc.flag)
			} else {
				_, err = ParseFlag(tc.flag)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), pin) {
				t.Fatalf("the error shows the PIN: %v", err)
			}
		})
	}
}
