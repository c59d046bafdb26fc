package iam

import (
	"fmt"
	"log/slog"

	"github.com/coffer/coffer/internal/secret"
)

// Format prints the key by its id only, whatever the verb: a NewAccessKey that reaches a log
// line or an error message never shows its secret (nor the sealed one).
func (k NewAccessKey) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{AccessKeyId:%s UserName:%s Status:%s Secret:%s}", k.ID, k.UserName, k.Status, secret.Redacted)
}

// LogValue implements slog.LogValuer like Format.
func (k NewAccessKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("AccessKeyId", k.ID), slog.String("Secret", secret.Redacted))
}

// Format prints the credentials by their access key id and session, whatever the verb: never
// the secret access key or the session token.
func (c TemporaryCredentials) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{AccessKeyId:%s AssumedRoleArn:%s Expiration:%s SecretAccessKey:%s SessionToken:%s}",
		c.AccessKeyID, c.AssumedRoleARN, c.Expiration, secret.Redacted, secret.Redacted)
}

// LogValue implements slog.LogValuer like Format.
func (c TemporaryCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("AccessKeyId", c.AccessKeyID), slog.String("AssumedRoleArn", c.AssumedRoleARN),
		slog.String("SecretAccessKey", secret.Redacted), slog.String("SessionToken", secret.Redacted))
}
