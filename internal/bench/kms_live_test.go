package bench

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// kmsWired reports whether the server answers KMS calls; until internal/kmsapi is wired
// into the server, its S3 layer answers them with an S3 error.
func kmsWired(t *testing.T, l *live) (bool, string) {
	cfg, tr, err := awsConfig(l.conn, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	c := kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(l.srv.URL) })
	_, err = c.ListKeys(context.Background(), &kms.ListKeysInput{})
	if err == nil {
		return true, ""
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case 405, 501, 400, 404:
			return false, "ListKeys answered HTTP " + re.Response.Status + " (" + errorCode(err) + ")"
		}
	}
	t.Fatalf("KMS probe: %v", err)
	return false, ""
}

func TestKMSLive(t *testing.T) {
	l := startLive(t)
	if ok, why := kmsWired(t, l); !ok {
		t.Skipf("KMS is not wired into the server yet: %s; the kms bench is untested against it", why)
	}
	cfg, tr, err := awsConfig(l.conn, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	c := kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(l.srv.URL) })
	ctx := context.Background()
	states := func() map[string]kmstypes.KeyState {
		out, err := c.ListKeys(ctx, &kms.ListKeysInput{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]kmstypes.KeyState{}
		for _, k := range out.Keys {
			d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
			if err != nil {
				t.Fatal(err)
			}
			m[aws.ToString(k.KeyId)] = d.KeyMetadata.KeyState
		}
		return m
	}
	for _, op := range kmsOps {
		t.Run(op, func(t *testing.T) {
			before := states()
			rep := l.runJSON(t, l.args("kms", "--op", op, "--concurrency", "2", "--duration", "1s"))
			if len(rep.Operations) != 1 || rep.Operations[0].Count == 0 || rep.Operations[0].Errors != 0 {
				t.Errorf("operations %+v", rep.Operations)
			}
			after := states()
			if len(after) != len(before)+1 {
				t.Fatalf("%d keys after the run, want one more than %d", len(after), len(before))
			}
			for id, st := range after {
				if _, old := before[id]; !old && st != kmstypes.KeyStatePendingDeletion {
					t.Errorf("the run's key %s is %s, want PendingDeletion", id, st)
				}
			}
		})
	}
	t.Run("reuse a key", func(t *testing.T) {
		out, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.KeyMetadata.KeyId)
		l.runJSON(t, l.args("kms", "--op", "decrypt", "--key-id", id, "--concurrency", "1", "--duration", "1s"))
		if st := states()[id]; st != kmstypes.KeyStateEnabled {
			t.Errorf("a key given with --key-id is %s after the run, want Enabled", st)
		}
		code, _, errOut := l.run(t, l.args("kms", "--op", "sign", "--key-id", id, "--duration", "1s"))
		if code != 1 || !strings.Contains(errOut, "cannot sign") {
			t.Errorf("sign with a symmetric key: exit %d, stderr %s", code, errOut)
		}
	})
}
