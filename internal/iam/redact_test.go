package iam_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/iam"
)

// TestSecretsRedacted: the one-time answers that carry a secret access key or a session token
// never print them, whatever the verb or logger.
func TestSecretsRedacted(t *testing.T) {
	k := iam.NewAccessKey{AccessKey: iam.AccessKey{ID: "AKIAEXAMPLEKEY000001", SealedSecret: []byte("sealed-blob")}, Secret: "secret-key-material"}
	tc := iam.TemporaryCredentials{AccessKeyID: "ASIAEXAMPLEKEY000001", SecretAccessKey: "session-secret-material",
		SessionToken: "session-token-material"}
	secrets := []string{"secret-key-material", "session-secret-material", "session-token-material", "sealed-blob"}
	for _, v := range []any{k, &k, tc, &tc} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			t.Run(fmt.Sprintf("%T %s", v, verb), func(t *testing.T) {
				var buf bytes.Buffer
				fmt.Fprintf(&buf, verb, v)
				slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
				slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
				for _, s := range secrets {
					if strings.Contains(buf.String(), s) || strings.Contains(buf.String(), fmt.Sprintf("%x", s)) {
						t.Fatalf("%s shows %q: %s", verb, s, buf.String())
					}
				}
				if !strings.Contains(buf.String(), "EXAMPLEKEY") {
					t.Fatalf("%s hides the access key id: %s", verb, buf.String())
				}
			})
		}
	}
}
