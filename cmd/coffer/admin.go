package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/coffer/coffer/internal/server"
)

const adminUsage = `usage: coffer admin <command> [flags]

commands:
  check --data DIR   read every record and blob reference of a stopped server's data
                     directory, report what is damaged or missing; exit 1 on any finding
`

func runAdmin(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, adminUsage)
			return 0
		}
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	fs := flag.NewFlagSet("admin check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("data", "", "data directory (required)")
	rootKey := fs.String("kms-root-key-file", getenv("COFFER_KMS_ROOT_KEY_FILE"), "KMS root key file (default: DIR/kms/root.key)")
	if err := fs.Parse(args[1:]); err != nil {
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
	rep, err := server.Check(context.Background(), *dir, *rootKey)
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
