package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/coffer/coffer/internal/backend"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/server"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runServer(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg server.Config
	var domains listFlag
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error (debug adds a line per request)")
	logFormat := fs.String("log-format", "text", "log format: text (key=value) or json (one JSON object per line)")
	fs.StringVar(&cfg.Dir, "data", "", "data directory (required): the embedded stores, or with --meta this node's own files (certificate, credentials.json, audit trail)")
	metaURL := fs.String("meta", "", "shared metadata, keys, identities and trails in PostgreSQL: postgres://user@host/db?sslmode=verify-full (password from PGPASSWORD or ~/.pgpass; pool_max_conns sizes the pool); needs --blob; default: embedded in DIR/meta.db")
	blobURL := fs.String("blob", "", "shared object bytes: s3://bucket/prefix?endpoint=https://host:port&region=R&ca=FILE&path-style=true (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) or file:///mnt/shared; needs --meta; default: DIR/blobs")
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:9000", "HTTPS listen address")
	fs.StringVar(&cfg.ListenHTTP, "listen-http", "", "optional plain-HTTP listen address (off by default)")
	fs.StringVar(&cfg.AdminListen, "admin-listen", "", "optional plain-HTTP address for /metrics, /healthz, /readyz, pprof and runtime metrics (off by default; no authentication: keep it on loopback or a private network)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (default: generated under DIR/tls)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key file")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "region of this endpoint")
	fs.StringVar(&cfg.KMSRootKeyFile, "kms-root-key-file", getenv("COFFER_KMS_ROOT_KEY_FILE"), "KMS root key file, 32 bytes (default: DIR/kms/root.key, generated; env COFFER_KMS_ROOT_KEY_FILE)")
	fs.IntVar(&cfg.KMSManagedRotationDays, "kms-managed-rotation-days", 365, "rotation period of AWS managed keys such as aws/s3, in days")
	fs.IntVar(&cfg.SSES3RotationDays, "sse-s3-rotation-days", 365, "rotation period of the SSE-S3 service key, in days; objects sealed under older versions stay readable")
	ssecNewBuckets := fs.String("sse-c-new-buckets", "block", "SSE-C writes on new buckets: block (S3's default since April 2026; PutBucketEncryption unblocks) or allow (for older tools)")
	fs.BoolVar(&cfg.NoAudit, "no-audit", false, "keep no audit trail (for measuring its cost); by default every request is recorded under DIR/audit")
	fs.DurationVar(&cfg.AuditRollEvery, "audit-roll", 5*time.Minute, "finish an audit log file this long after its first record")
	fs.Int64Var(&cfg.AuditRollSize, "audit-roll-size", 8<<20, "... or once it holds this many bytes (uncompressed)")
	fs.DurationVar(&cfg.AuditDigestEvery, "audit-digest-every", time.Hour, "write a signed audit digest this often")
	auditFsync := fs.String("audit-fsync", "20ms", "when audit records reach the disk: always (each flushed before its request is answered: survives power loss) or a window such as 20ms (each written before the answer, surviving a crash or kill -9 of the process, and flushed within the window)")
	rootHSM := fs.String("kms-root-pkcs11", getenv("COFFER_KMS_ROOT_PKCS11"), kmsRootPKCS11Usage)
	var hsms listFlag
	fs.Var(&hsms, "hsm", "an HSM for KMS custom key stores (repeatable): name=CLUSTER-ID,module=PKCS11-LIBRARY, token=LABEL or slot=N, pin-file=FILE or pin-env=VARIABLE (the crypto-user PIN is never a flag), and optionally sessions=N (default 8)")
	fs.Var(&domains, "domain", "base domain for virtual-host-style requests (repeatable; localhost is always one)")
	settings := addConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "coffer server: %v\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "coffer server: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if code, done := settings.apply(fs, getenv, stdout, stderr); done {
		return code
	}
	if cfg.Dir == "" {
		fmt.Fprintln(stderr, "coffer server: --data DIR is required")
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "coffer server: bad --log-level %q\n", *logLevel)
		return 2
	}
	logOpts := &slog.HandlerOptions{Level: level}
	var logHandler slog.Handler
	switch *logFormat {
	case "text":
		logHandler = slog.NewTextHandler(stderr, logOpts)
	case "json":
		logHandler = slog.NewJSONHandler(stderr, logOpts)
	default:
		fmt.Fprintf(stderr, "coffer server: --log-format must be text or json, not %q\n", *logFormat)
		return 2
	}
	// One registry of PKCS#11 modules for --hsm and --kms-root-pkcs11, which may name one
	// module: it is initialised once and finalised after the last token of either closes.
	modules := pkcs11hsm.NewModules()
	if len(hsms) > 0 {
		var cfgs []pkcs11hsm.Config
		for _, v := range hsms {
			c, err := pkcs11hsm.ParseFlag(v)
			if err != nil {
				fmt.Fprintf(stderr, "coffer server: --hsm: %v\n", err)
				return 2
			}
			cfgs = append(cfgs, c)
		}
		h, err := modules.New(cfgs)
		if err != nil {
			fmt.Fprintf(stderr, "coffer server: --hsm: %v\n", err)
			return 2
		}
		cfg.HSMs = h
	}
	if *rootHSM != "" {
		h, err := parseRootHSM(*rootHSM, modules)
		if err != nil {
			fmt.Fprintf(stderr, "coffer server: --kms-root-pkcs11: %v\n", err)
			return 2
		}
		cfg.KMSRootHSM = h
	}
	if cfg.KMSManagedRotationDays < 1 {
		fmt.Fprintln(stderr, "coffer server: --kms-managed-rotation-days must be at least 1")
		return 2
	}
	if cfg.SSES3RotationDays < 1 {
		fmt.Fprintln(stderr, "coffer server: --sse-s3-rotation-days must be at least 1")
		return 2
	}
	switch *ssecNewBuckets {
	case "block":
	case "allow":
		cfg.AllowSSECOnNewBuckets = true
	default:
		fmt.Fprintf(stderr, "coffer server: --sse-c-new-buckets must be block or allow, not %q\n", *ssecNewBuckets)
		return 2
	}
	if *auditFsync != "always" {
		d, err := time.ParseDuration(*auditFsync)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "coffer server: --audit-fsync must be always or a positive duration such as 20ms, not %q\n", *auditFsync)
			return 2
		}
		cfg.AuditSyncEvery = d
	}
	cfg.Domains = domains
	accessKey, secretKey, err := settings.rootKey(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "coffer server: %v\n", err)
		return 2
	}
	cfg.AccessKey, cfg.SecretKey = accessKey, secretKey
	cfg.Logger = slog.New(logHandler)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if (*metaURL == "") != (*blobURL == "") {
		fmt.Fprintln(stderr, "coffer server: give --meta and --blob together (nodes sharing stores share both), or neither for the embedded stores")
		return 2
	}
	if *metaURL != "" {
		octx, cancel := context.WithTimeout(ctx, time.Minute)
		stores, err := backend.OpenShared(octx, backend.SharedConfig{Meta: *metaURL, Blob: *blobURL, Logger: cfg.Logger})
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "coffer server: %v\n", oneLine(err))
			return 1
		}
		cfg.Stores = stores
	}
	srv, err := server.Start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "coffer server: %v\n", oneLine(err))
		return 1
	}
	printBanner(stdout, srv, cfg)
	if err := notifySystemd(getenv, "READY=1"); err != nil {
		cfg.Logger.Warn("telling systemd the server is ready", "err", err)
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down: finishing requests in flight")
	notifySystemd(getenv, "STOPPING=1")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "coffer server: shutdown: %v\n", oneLine(err))
		return 1
	}
	return 0
}

func printBanner(w io.Writer, srv *server.Server, cfg server.Config) {
	cert, _ := filepath.Abs(srv.CertFile)
	id := srv.Identity
	fmt.Fprintf(w, "Coffer %s is serving S3 and KMS.\n", version)
	fmt.Fprintf(w, "  endpoint:    %s\n", srv.URL)
	if srv.HTTPURL != "" {
		fmt.Fprintf(w, "  plain HTTP:  %s\n", srv.HTTPURL)
	}
	if srv.AdminURL != "" {
		fmt.Fprintf(w, "  metrics:     %s/metrics (health: %s/healthz, %s/readyz)\n", srv.AdminURL, srv.AdminURL, srv.AdminURL)
		fmt.Fprintf(w, "  admin:       %s/debug/pprof/ and %s/metrics.json\n", srv.AdminURL, srv.AdminURL)
	}
	fmt.Fprintf(w, "  certificate: %s\n", cert)
	fmt.Fprintf(w, "  stores:      %s\n", srv.StoresDescription())
	fmt.Fprintf(w, "  node:        %s\n", srv.NodeID())
	fmt.Fprintf(w, "  region:      %s\n", cfg.Region)
	fmt.Fprintf(w, "  account:     %s\n", id.AccountID)
	if id.AccessKey == "" {
		fmt.Fprintf(w, "  access key:  none: the root key %s names was deleted; set COFFER_ACCESS_KEY and COFFER_SECRET_KEY, or sign with another key\n",
			filepath.Join(cfg.Dir, "credentials.json"))
		return
	}
	fmt.Fprintf(w, "  access key:  %s\n", id.AccessKey)
	secret := "<the root secret key shown at the first start>"
	switch {
	case !id.GeneratedSecret.IsZero():
		secret = string(id.GeneratedSecret.RevealBytes())
		fmt.Fprintf(w, "  secret key:  %s   (generated now and shown only once; stored only sealed, under the KMS key %s)\n", secret, server.IAMKeyName)
		id.GeneratedSecret.Destroy() // shown: no copy of ours need outlive this (best effort)
	case cfg.AccessKey != "":
		secret = "$COFFER_SECRET_KEY"
	}
	fmt.Fprintf(w, "Try it:\n  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=%s AWS_CA_BUNDLE=%s aws --endpoint-url %s s3 ls\n",
		id.AccessKey, secret, cfg.Region, cert, srv.URL)
}

// oneLine keeps error output to a single line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
