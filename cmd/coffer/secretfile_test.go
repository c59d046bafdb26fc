package main

import "testing"

// TestRedactSecret: the password of a URL and the value of a password= or pin= field are
// replaced; a value without a secret is left as it is.
func TestRedactSecret(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://coffer:s3cret@db.internal:5432/coffer?sslmode=verify-full", "postgres://coffer:REDACTED@db.internal:5432/coffer?sslmode=verify-full"},
		{"postgres://coffer@db.internal/coffer", "postgres://coffer@db.internal/coffer"},
		{"host=db user=coffer password=s3cret dbname=coffer", "host=db user=coffer password=REDACTED dbname=coffer"},
		{"name=c,module=/m.so,token=t,PIN=1234", "name=c,module=/m.so,token=t,PIN=REDACTED"},
		{"name=c,module=/m.so,token=t,pin-file=/etc/coffer/pin", "name=c,module=/m.so,token=t,pin-file=/etc/coffer/pin"},
		{"s3://bucket/prefix", "s3://bucket/prefix"},
		{"127.0.0.1:9000", "127.0.0.1:9000"},
	}
	for _, tc := range tests {
		if got := redactSecret(tc.in); got != tc.want {
			t.Errorf("redactSecret(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if holdsSecret(tc.in) != (tc.in != tc.want) {
			t.Errorf("holdsSecret(%q) = %v", tc.in, holdsSecret(tc.in))
		}
	}
}
