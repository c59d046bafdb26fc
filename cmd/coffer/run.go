package main

import (
	"fmt"
	"io"
)

const usage = `usage: coffer <command> [flags]

commands:
  server    run the S3 + KMS server (coffer server --data DIR)
  bench     load-test an S3 or KMS endpoint (coffer bench s3|kms --help)
  admin     maintenance of a stopped server's data (coffer admin check --data DIR)
  audit     verify the audit trail offline, print its records (coffer audit verify --data DIR)
  version   print the version
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run executes one command and returns the process exit code: 0 ok, 1 failure, 2 bad usage.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "server":
		return runServer(args[1:], stdout, stderr, getenv)
	case "bench":
		return runBench(args[1:], stdout, stderr, getenv)
	case "admin":
		return runAdmin(args[1:], stdout, stderr, getenv)
	case "audit":
		return runAudit(args[1:], stdout, stderr, getenv)
	case "version", "--version":
		fmt.Fprintln(stdout, "coffer", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "coffer: unknown command %q (try: coffer help)\n", args[0])
	return 2
}
