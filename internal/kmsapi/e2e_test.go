package kmsapi

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestE2EScript runs scripts/e2e-kms.sh (the real aws CLI) against this handler over HTTPS.
// It takes tens of seconds, so it runs only with COFFER_KMS_E2E=1; CI runs the script through
// scripts/e2e.sh against the real server.
func TestE2EScript(t *testing.T) {
	if os.Getenv("COFFER_KMS_E2E") != "1" {
		t.Skip("set COFFER_KMS_E2E=1 to run the aws CLI script")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	e := newEnv(t, "")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "e2e-kms.sh"))
	cmd.Env = append(os.Environ(),
		"AWS_ENDPOINT_URL="+e.srv.URL, "AWS_CA_BUNDLE="+ca, "AWS_ACCESS_KEY_ID="+testAccess,
		"AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_DEFAULT_REGION="+testRegion,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "E2E_WORK="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("e2e-kms.sh: %v", err)
	}
}
