package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The aws-sdk-go-v2 client costs about twice the server's CPU per KMS request, so on a machine
// shared by both the SDK, not the server, sets the ceiling. To measure the server alone,
// WriteWRKScript signs one request of the operation with the SDK's signer and writes a wrk(1)
// script that replays it: the server verifies the signature and does the work on every
// request. A SigV4 signature is accepted for 15 minutes from its date, so the script must be
// used within that time.

// WriteWRKScript prepares the key and inputs of cfg.Op as a run would, and writes the script
// to cfg.WRKScript. The key stays (wrk needs it); the returned id names it.
func WriteWRKScript(ctx context.Context, cfg KMSConfig) (keyID string, err error) {
	awsCfg, tr, err := awsConfig(cfg.Conn, 1)
	if err != nil {
		return "", err
	}
	defer tr.CloseIdleConnections()
	r := &kmsRun{cfg: cfg, keyID: cfg.KeyID, ec: map[string]string{"aws:s3:arn": "arn:aws:s3:::coffer-bench/object"}, message: make([]byte, cfg.Size)}
	r.c = newKMSClient(awsCfg, cfg.Endpoint)
	if err := r.setup(ctx); err != nil {
		return "", errors.Join(err, r.cleanup(ctx))
	}
	target, body := r.wrkRequest()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(cfg.Endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return r.keyID, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService."+target)
	sum := sha256.Sum256(body)
	creds, err := awsCfg.Credentials.Retrieve(ctx)
	if err != nil {
		return r.keyID, err
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "kms", cfg.Region, time.Now()); err != nil {
		return r.keyID, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- wrk script for KMS %s, signed %s; valid for 15 minutes.\n", target, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "wrk.method = \"POST\"\nwrk.path = \"/\"\nwrk.body = %s\n", luaString(string(body)))
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "wrk.headers[%s] = %s\n", luaString(k), luaString(req.Header.Get(k)))
	}
	fmt.Fprintf(&b, "wrk.headers[\"Host\"] = %s\n", luaString(req.Host))
	b.WriteString("function response(status, headers, body)\n  if status ~= 200 then\n    io.stderr:write(\"unexpected status \" .. status .. \": \" .. body .. \"\\n\")\n    os.exit(1)\n  end\nend\n")
	return r.keyID, os.WriteFile(cfg.WRKScript, []byte(b.String()), 0o600)
}

// wrkRequest returns the operation name and JSON body of one request of the run's op.
func (r *kmsRun) wrkRequest() (string, []byte) {
	var target string
	m := map[string]any{"KeyId": r.keyID}
	switch r.cfg.Op {
	case "generate-data-key":
		target = "GenerateDataKey"
		m["KeySpec"], m["EncryptionContext"] = "AES_256", r.ec
	case "decrypt":
		target = "Decrypt"
		m["CiphertextBlob"], m["EncryptionContext"] = base64.StdEncoding.EncodeToString(r.ciphertext), r.ec
	case "encrypt":
		target = "Encrypt"
		m["Plaintext"], m["EncryptionContext"] = base64.StdEncoding.EncodeToString(r.message), r.ec
	case "sign":
		target = "Sign"
		m["Message"], m["MessageType"], m["SigningAlgorithm"] = base64.StdEncoding.EncodeToString(r.message), "RAW", string(r.signAlg)
	}
	body, _ := json.Marshal(m) // maps of strings always marshal
	return target, body
}

// luaString quotes s as a Lua string literal.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(s) {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
