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

	"github.com/coffer/coffer/internal/migrate"
)

// runAdminMigrate moves a stopped server's data directory into PostgreSQL and a shared blob
// store, or back (internal/migrate), and verifies; --verify-only only compares. The KMS root
// key and credentials.json stay files: what to carry over is printed.
func runAdminMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("admin migrate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("data", "", "the embedded data directory (required)")
	toMeta := fs.String("to-meta", "", "PostgreSQL URL to copy into (postgres://...; give the password by PGPASSWORD or ~/.pgpass, not in the URL)")
	toBlob := fs.String("to-blob", "", "blob store URL to copy into (s3://bucket/prefix?... or file:///dir)")
	fromMeta := fs.String("from-meta", "", "PostgreSQL URL to copy from, into an empty --data DIR")
	fromBlob := fs.String("from-blob", "", "blob store URL to copy from")
	verifyOnly := fs.Bool("verify-only", false, "compare both sides, copy nothing")
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "coffer admin migrate: %s\n", msg)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		return usage(err.Error())
	}
	to, from := *toMeta != "" || *toBlob != "", *fromMeta != "" || *fromBlob != ""
	switch {
	case *dir == "" || fs.NArg() > 0:
		return usage("--data DIR is required, with --to-meta and --to-blob, or --from-meta and --from-blob")
	case to == from:
		return usage("give either --to-meta and --to-blob, or --from-meta and --from-blob")
	case to && (*toMeta == "" || *toBlob == ""), from && (*fromMeta == "" || *fromBlob == ""):
		return usage("the PostgreSQL URL and the blob store URL go together")
	}
	metaURL, blobURL := *toMeta, *toBlob
	if from {
		metaURL, blobURL = *fromMeta, *fromBlob
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var rep migrate.Report
	var err error
	switch {
	case *verifyOnly:
		rep, err = migrate.Verify(ctx, *dir, metaURL, blobURL, log)
	case to:
		rep, err = migrate.ToShared(ctx, *dir, metaURL, blobURL, log)
	default:
		rep, err = migrate.ToEmbedded(ctx, metaURL, blobURL, *dir, log)
	}
	if rep.Records != nil {
		printMigrateReport(stdout, rep, *verifyOnly)
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer admin migrate: %v\n", oneLine(err))
		return 1
	}
	if !*verifyOnly {
		printCarryOver(stdout, *dir, to)
	}
	return 0
}

// printMigrateReport prints the counts per kind and what differs.
func printMigrateReport(w io.Writer, rep migrate.Report, verifyOnly bool) {
	for _, k := range migrate.Kinds {
		if n := rep.Records[k]; n > 0 {
			fmt.Fprintf(w, "%8d %s\n", n, k)
		}
	}
	fmt.Fprintf(w, "%8d blobs (%d bytes)", rep.Blobs, rep.BlobBytes)
	if !verifyOnly {
		fmt.Fprintf(w, ": %d copied, %d already in place", rep.Copied, rep.Kept)
	}
	fmt.Fprintln(w)
	for _, d := range rep.Differences {
		fmt.Fprintln(w, "differs:", d)
	}
	if len(rep.Differences) == 0 {
		fmt.Fprintln(w, "verified: both sides hold the same records and blobs")
	}
}

// printCarryOver says what the migration does not copy: the KMS root key and credentials.json.
func printCarryOver(w io.Writer, dir string, toShared bool) {
	root := filepath.Join(dir, "kms", "root.key")
	if _, err := os.Stat(root + ".wrapped"); err == nil {
		root += ".wrapped"
	}
	creds := filepath.Join(dir, "credentials.json")
	fmt.Fprintln(w, "not copied, carry these over yourself:")
	if toShared {
		fmt.Fprintf(w, "  - the KMS root key %s: every node needs it (--kms-root-key-file FILE; a root.key.wrapped\n", root)
		fmt.Fprintln(w, "    goes with --kms-root-pkcs11); without it no key, object or access key opens")
		fmt.Fprintf(w, "  - %s: it names the default account and its root access key; give each node a copy\n", creds)
		fmt.Fprintln(w, "  keep the old directory until the new setup serves; a server started on it now would diverge")
		return
	}
	fmt.Fprintln(w, "  - the KMS root key the PostgreSQL setup used: put it at "+root+" or give --kms-root-key-file")
	fmt.Fprintln(w, "  - credentials.json (it names the default account and its root access key): copy it to "+creds)
}
