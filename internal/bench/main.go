// Package bench is `coffer bench`: a load generator for any S3 or KMS endpoint, built on the
// AWS SDK for Go v2 so that it measures what real clients see. It runs a fixed number of
// workers for a fixed time, records every request's latency in a fixed-size histogram, and
// prints a table or one JSON object (see BENCHMARKS.md for both).
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `usage: coffer bench s3|kms [flags]

  coffer bench s3  --endpoint URL [--ca-cert FILE | --insecure] --op put|get|mixed|list
                   --size 4KiB --objects N --concurrency C --duration D --sse none|s3|kms|c
  coffer bench kms --endpoint URL --op generate-data-key|decrypt|encrypt|sign
                   --concurrency C --duration D [--key-id ID]

Credentials come from --access-key/--secret-key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
Run "coffer bench s3 -h" or "coffer bench kms -h" for every flag.
`

// Main runs `coffer bench` with the arguments that follow "bench" and returns the exit code:
// 0 when the load ran and some requests succeeded, 1 on a runtime failure (including every
// request failing), 2 on a bad command line. A live progress line is drawn on stdout only
// when stdout is a terminal.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var progress io.Writer
	if isTerminal(stdout) {
		progress = stdout
	}
	var (
		rep  *Report
		err  error
		json bool
	)
	switch args[0] {
	case "s3":
		var cfg S3Config
		if cfg, err = ParseS3Args(args[1:], getenv); err == nil {
			json = cfg.JSON
			rep, err = RunS3(ctx, cfg, progress)
		}
	case "kms":
		var cfg KMSConfig
		if cfg, err = ParseKMSArgs(args[1:], getenv); err == nil && cfg.WRKScript != "" {
			keyID, err := WriteWRKScript(ctx, cfg)
			if err != nil {
				fmt.Fprintf(stderr, "coffer bench kms: %s\n", oneLine(err))
				return 1
			}
			fmt.Fprintf(stdout, "wrote %s (key %s; schedule its deletion when done). Within 15 minutes run:\n  wrk -t2 -c%d -d15s -s %s %s/\n",
				cfg.WRKScript, keyID, cfg.Concurrency, cfg.WRKScript, strings.TrimSuffix(cfg.Endpoint, "/"))
			return 0
		}
		if err == nil {
			json = cfg.JSON
			rep, err = RunKMS(ctx, cfg, progress)
		}
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "coffer bench: unknown target %q (want s3 or kms)\n", args[0])
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		printFlags(stdout, args[0])
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "coffer bench %s: %s\n", args[0], ue.msg)
		return 2
	}
	code := 0
	if rep != nil {
		if json {
			err = errors.Join(err, rep.WriteJSON(stdout))
		} else {
			err = errors.Join(err, rep.WriteTable(stdout))
		}
		if msg := allFailed(rep); msg != "" {
			fmt.Fprintf(stderr, "coffer bench %s: %s\n", args[0], msg)
			code = 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer bench %s: %s\n", args[0], oneLine(err))
		code = 1
	}
	return code
}

// allFailed explains a run in which no request succeeded, or returns "".
func allFailed(rep *Report) string {
	var ok, failed uint64
	var codes []string
	for _, o := range rep.Operations {
		ok += o.Count
		failed += o.Errors
		if o.Errors > 0 {
			codes = append(codes, o.Operation+" "+fmtErrors(o))
		}
	}
	switch {
	case ok > 0:
		return ""
	case failed == 0:
		return "no request completed in the time given"
	}
	return fmt.Sprintf("every request failed: %s", strings.Join(codes, "; "))
}

// printFlags lists a target's flags for -h.
func printFlags(w io.Writer, target string) {
	fs := kmsFlags(&KMSConfig{})
	if target == "s3" {
		fs = s3Flags(&S3Config{})
	}
	fmt.Fprintf(w, "usage: coffer bench %s [flags]\n", target)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// isTerminal reports whether w is a character device such as a terminal, where a
// progress line that rewrites itself reads well.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
