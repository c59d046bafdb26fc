package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/server"
)

const kmsRootPKCS11Usage = "keep the KMS root key wrapped by a key in an HSM instead of a file: module=PKCS11-LIBRARY, token=LABEL or slot=N, pin-file=FILE or pin-env=VARIABLE, and optionally key-label=LABEL (default " + kms.DefaultRootWrapLabel + "); env COFFER_KMS_ROOT_PKCS11"

// parseRootHSM turns a --kms-root-pkcs11 value into the HSM of the KMS root key, whose module
// is loaded through mods (shared with --hsm's, which may name the same module).
func parseRootHSM(v string, mods *pkcs11hsm.Modules) (*kms.RootHSM, error) {
	c, label, err := pkcs11hsm.ParseRootFlag(v)
	if err != nil {
		return nil, err
	}
	h, err := mods.New([]pkcs11hsm.Config{c})
	if err != nil {
		return nil, err
	}
	return &kms.RootHSM{HSMs: h, Name: c.Name, KeyLabel: label}, nil
}

// runKMSRoot runs `coffer admin kms-root wrap|unwrap`: the KMS root key of a stopped server's
// data directory moves into an HSM (the plaintext file is overwritten and removed) or back out
// of it.
func runKMSRoot(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] != "wrap" && args[0] != "unwrap" {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	verb := args[0]
	name := "coffer admin kms-root " + verb
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("data", "", "data directory (required)")
	rootKey := fs.String("kms-root-key-file", getenv("COFFER_KMS_ROOT_KEY_FILE"), "KMS root key file (default: DIR/kms/root.key)")
	rootHSM := fs.String("kms-root-pkcs11", getenv("COFFER_KMS_ROOT_PKCS11"), kmsRootPKCS11Usage)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	if *dir == "" || *rootHSM == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: --data DIR and --kms-root-pkcs11 are required\n", name)
		return 2
	}
	h, err := parseRootHSM(*rootHSM, pkcs11hsm.NewModules())
	if err != nil {
		fmt.Fprintf(stderr, "%s: --kms-root-pkcs11: %v\n", name, err)
		return 2
	}
	cfg := server.Config{Dir: *dir, KMSRootKeyFile: *rootKey, KMSRootHSM: h}
	if verb == "wrap" {
		err = server.WrapKMSRoot(context.Background(), cfg)
	} else {
		err = server.UnwrapKMSRoot(context.Background(), cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, oneLine(err))
		return 1
	}
	if verb == "wrap" {
		fmt.Fprintf(stdout, "the KMS root key of %s is now wrapped by the HSM; start the server with --kms-root-pkcs11\n", *dir)
	} else {
		fmt.Fprintf(stdout, "the KMS root key of %s is a file again; start the server without --kms-root-pkcs11\n", *dir)
	}
	return 0
}
