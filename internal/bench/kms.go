package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// kmsRun is the state of one `coffer bench kms`.
type kmsRun struct {
	cfg        KMSConfig
	c          *kms.Client
	keyID      string
	ownKey     bool                       // created by this run, so scheduled for deletion at its end
	ec         map[string]string          // encryption context, shaped like the one S3 sends
	message    []byte                     // plaintext for encrypt, message for sign
	ciphertext []byte                     // a data key's ciphertext for decrypt
	signAlg    types.SigningAlgorithmSpec // for sign
}

// RunKMS runs the KMS load described by cfg. progress, when not nil, gets a live status line.
// A report is returned whenever the load ran, even if scheduling the key's deletion failed
// (that error is returned with it).
func RunKMS(ctx context.Context, cfg KMSConfig, progress io.Writer) (*Report, error) {
	awsCfg, tr, err := awsConfig(cfg.Conn, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	// Close the connections when done, including those dialled but never used, which would
	// otherwise hold up a server's graceful shutdown.
	defer tr.CloseIdleConnections()
	r := &kmsRun{
		cfg:     cfg,
		keyID:   cfg.KeyID,
		ec:      map[string]string{"aws:s3:arn": "arn:aws:s3:::coffer-bench/object"},
		message: make([]byte, cfg.Size),
	}
	_, _ = rand.Read(r.message)
	r.c = newKMSClient(awsCfg, cfg.Endpoint)

	bg := context.WithoutCancel(ctx)
	if err := r.setup(bg); err != nil {
		return nil, errors.Join(err, r.cleanup(bg))
	}
	var op opFunc
	switch cfg.Op {
	case "generate-data-key":
		op = r.generateDataKey
	case "decrypt":
		op = r.decrypt
	case "encrypt":
		op = r.encrypt
	case "sign":
		op = r.sign
	}
	stats, elapsed := runLoad(ctx, cfg.Concurrency, cfg.Duration, op, progress)
	rep := &Report{
		Target: "kms", Endpoint: cfg.Endpoint, Op: cfg.Op, Concurrency: cfg.Concurrency,
		Duration: cfg.Duration.Seconds(), Elapsed: elapsed.Seconds(),
		Operations: buildOperations(stats, elapsed),
	}
	return rep, r.cleanup(bg)
}

func newKMSClient(awsCfg aws.Config, endpoint string) *kms.Client {
	return kms.NewFromConfig(awsCfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// setup creates the key unless one was given, and whatever the operation reuses.
func (r *kmsRun) setup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if r.keyID == "" {
		in := &kms.CreateKeyInput{Description: aws.String("coffer bench: scheduled for deletion when the run ends")}
		if r.cfg.Op == "sign" {
			in.KeySpec = types.KeySpecEccNistP256
			in.KeyUsage = types.KeyUsageTypeSignVerify
		}
		out, err := r.c.CreateKey(ctx, in)
		if err != nil {
			return fmt.Errorf("create key: %s: %s", errorCode(err), oneLine(err))
		}
		r.keyID, r.ownKey = aws.ToString(out.KeyMetadata.KeyId), true
	}
	switch r.cfg.Op {
	case "decrypt":
		out, err := r.c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
			KeyId: &r.keyID, KeySpec: types.DataKeySpecAes256, EncryptionContext: r.ec,
		})
		if err != nil {
			return fmt.Errorf("generate the data key to decrypt: %s: %s", errorCode(err), oneLine(err))
		}
		clear(out.Plaintext) // only the ciphertext is needed
		r.ciphertext = out.CiphertextBlob
	case "sign":
		out, err := r.c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &r.keyID})
		if err != nil {
			return fmt.Errorf("describe key: %s: %s", errorCode(err), oneLine(err))
		}
		if out.KeyMetadata == nil || len(out.KeyMetadata.SigningAlgorithms) == 0 {
			return fmt.Errorf("key %s cannot sign (give a SIGN_VERIFY key with --key-id, or none)", r.keyID)
		}
		r.signAlg = out.KeyMetadata.SigningAlgorithms[0]
	}
	return nil
}

// cleanup schedules the deletion of a key the run created, after the shortest waiting
// period KMS allows.
func (r *kmsRun) cleanup(ctx context.Context) error {
	if !r.ownKey {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := r.c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: &r.keyID, PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		return fmt.Errorf("schedule deletion of key %s: %s", r.keyID, oneLine(err))
	}
	return nil
}

func (r *kmsRun) generateDataKey(ctx context.Context, _ *worker) (string, int64, error) {
	out, err := r.c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: &r.keyID, KeySpec: types.DataKeySpecAes256, EncryptionContext: r.ec,
	})
	if err == nil {
		clear(out.Plaintext)
	}
	return "GenerateDataKey", 0, err
}

func (r *kmsRun) decrypt(ctx context.Context, _ *worker) (string, int64, error) {
	out, err := r.c.Decrypt(ctx, &kms.DecryptInput{
		KeyId: &r.keyID, CiphertextBlob: r.ciphertext, EncryptionContext: r.ec,
	})
	if err == nil {
		clear(out.Plaintext)
	}
	return "Decrypt", 0, err
}

func (r *kmsRun) encrypt(ctx context.Context, _ *worker) (string, int64, error) {
	_, err := r.c.Encrypt(ctx, &kms.EncryptInput{KeyId: &r.keyID, Plaintext: r.message, EncryptionContext: r.ec})
	return "Encrypt", 0, err
}

func (r *kmsRun) sign(ctx context.Context, _ *worker) (string, int64, error) {
	_, err := r.c.Sign(ctx, &kms.SignInput{
		KeyId: &r.keyID, Message: r.message, MessageType: types.MessageTypeRaw, SigningAlgorithm: r.signAlg,
	})
	return "Sign", 0, err
}
