package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/server"
)

const adminUsage = `usage: coffer admin <command> [flags]

commands:
  check --data DIR [--kms-root-key-file FILE | --kms-root-pkcs11 ...]
                     read every record and blob reference of a stopped server's data
                     directory, report what is damaged or missing; exit 1 on any finding
  compact --data DIR rewrite a stopped server's meta.db with its live pages only, so that
                     copies of changed or deleted records left in free pages are gone (once
                     after the upgrade that put KMS key material under shred keys)
  account create --data DIR [--name NAME] [--kms-root-key-file FILE | --kms-root-pkcs11 ...]
                     add an account with a root access key to a stopped server's data
                     directory and print the key once
  migrate --data DIR --to-meta postgres://... --to-blob URL [--verify-only]
  migrate --from-meta postgres://... --from-blob URL --data DIR [--verify-only]
                     copy a stopped server's data directory into PostgreSQL and a blob store
                     (s3://bucket/prefix?endpoint=... or file:///dir), or back into a new
                     directory, then compare both sides record by record and blob by blob;
                     --verify-only compares without copying; exit 1 on any difference.
                     The destination must hold no record; blobs an interrupted run left there
                     are checked and kept. The KMS root key and credentials.json are not copied
  kms-root wrap --data DIR --kms-root-pkcs11 module=...,token=...,pin-file=...
                     move a stopped server's KMS root key into an HSM: it is written wrapped
                     by a key on the token, and the plaintext file is overwritten and removed
  kms-root unwrap --data DIR --kms-root-pkcs11 ...
                     take it out again, back to DIR/kms/root.key (or --kms-root-key-file)
`

func runAdmin(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	switch {
	case len(args) > 0 && args[0] == "check":
		return runAdminCheck(args[1:], stdout, stderr, getenv)
	case len(args) > 0 && args[0] == "compact":
		return runAdminCompact(args[1:], stdout, stderr)
	case len(args) > 1 && args[0] == "account" && args[1] == "create":
		return runAccountCreate(args[2:], stdout, stderr, getenv)
	case len(args) > 0 && args[0] == "migrate":
		return runAdminMigrate(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "kms-root":
		return runKMSRoot(args[1:], stdout, stderr, getenv)
	case len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help"):
		fmt.Fprint(stdout, adminUsage)
		return 0
	}
	fmt.Fprint(stderr, adminUsage)
	return 2
}

func runAdminCheck(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("admin check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("data", "", "data directory (required)")
	rootKey := fs.String("kms-root-key-file", getenv("COFFER_KMS_ROOT_KEY_FILE"), "KMS root key file (default: DIR/kms/root.key)")
	rootHSM := fs.String("kms-root-pkcs11", getenv("COFFER_KMS_ROOT_PKCS11"), kmsRootPKCS11Usage)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "coffer admin check: %v\n", err)
		return 2
	}
	if *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "coffer admin check: --data DIR is required, and nothing else")
		return 2
	}
	var rep server.CheckReport
	var err error
	if *rootHSM != "" {
		h, perr := parseRootHSM(*rootHSM, pkcs11hsm.NewModules())
		if perr != nil || *rootKey != "" {
			fmt.Fprintf(stderr, "coffer admin check: --kms-root-pkcs11: %v\n", cmp.Or(perr, errors.New("not with --kms-root-key-file")))
			return 2
		}
		rep, err = server.CheckHSMRoot(context.Background(), *dir, h)
	} else {
		rep, err = server.Check(context.Background(), *dir, *rootKey)
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin check: %v\n", oneLine(err))
		return 1
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(stdout, "note:", n)
	}
	for _, f := range rep.Findings {
		fmt.Fprintln(stdout, "damaged:", f)
	}
	fmt.Fprintf(stdout, "%s: %d findings, %d blob references, %d blob files\n", *dir, len(rep.Findings), rep.Records, rep.Blobs)
	if len(rep.Findings) > 0 {
		return 1
	}
	return 0
}

// runAdminCompact compacts a stopped server's meta.db (boltfile.Compact).
func runAdminCompact(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("admin compact", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("data", "", "data directory (required)")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "coffer admin compact: --data DIR is required, and nothing else")
		return 2
	}
	before, after, err := boltfile.Compact(filepath.Join(*dir, "meta.db"))
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin compact: %v\n", oneLine(err))
		return 1
	}
	fmt.Fprintf(stdout, "%s: meta.db compacted, %d bytes before, %d after\n", *dir, before, after)
	return 0
}

// runAccountCreate adds an account to a stopped server's data directory (a running server
// holds meta.db's lock): its id is random, its root access key is printed once and stored only
// sealed by the KMS, so the KMS root key must be at hand as for `coffer server`.
func runAccountCreate(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("admin account create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("data", "", "data directory (required)")
	name := fs.String("name", "", "the account's display name (default: its id)")
	rootKey := fs.String("kms-root-key-file", getenv("COFFER_KMS_ROOT_KEY_FILE"), "KMS root key file (default: DIR/kms/root.key)")
	region := fs.String("region", "us-east-1", "the region the server serves")
	rootHSM := fs.String("kms-root-pkcs11", getenv("COFFER_KMS_ROOT_PKCS11"), kmsRootPKCS11Usage)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "coffer admin account create: %v\n", err)
		return 2
	}
	if *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "coffer admin account create: --data DIR is required")
		return 2
	}
	cfg := server.Config{Dir: *dir, KMSRootKeyFile: *rootKey, Region: *region,
		AccessKey: getenv("COFFER_ACCESS_KEY"), SecretKey: getenv("COFFER_SECRET_KEY")}
	if *rootHSM != "" {
		h, err := parseRootHSM(*rootHSM, pkcs11hsm.NewModules())
		if err != nil {
			fmt.Fprintf(stderr, "coffer admin account create: --kms-root-pkcs11: %v\n", err)
			return 2
		}
		cfg.KMSRootHSM = h
	}
	a, k, err := server.CreateAccountIn(context.Background(), cfg, *name)
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin account create: %v\n", oneLine(err))
		return 1
	}
	fmt.Fprintf(stdout, "account %s (%s) created; its root access key, shown only now:\n", a.ID, a.DisplayName)
	fmt.Fprintf(stdout, "  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", k.ID, k.Secret)
	return 0
}
