package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coffer/coffer/internal/audit"
)

const auditUsage = `usage: coffer audit <command> [flags]

commands:
  verify --data DIR... [--from T] [--to T] [--public-key FP]...
                     walk the signed digest chain of DIR/audit offline (a copy will do) and
                     report each log file valid, modified, deleted or unexpected and each
                     broken digest link; exit 1 on any finding (T: RFC 3339). With
                     --public-key, trust only the signing keys of those fingerprints (the
                     ones aws cloudtrail list-public-keys gives), not every key under keys/.
                     Nodes sharing stores keep a chain each: give every node's DIR (--data
                     repeated) to check them all, each on its own, with a total
  events --data DIR [--key K] [--event-name N] [--event-source S] [--user U] [--from T] [--to T]
         [--limit N] [--output json|table]
                     print the records of DIR/audit, newest first, as JSON lines or a table
`

func runAudit(args []string, stdout, stderr io.Writer, _ func(string) string) int {
	switch {
	case len(args) > 0 && args[0] == "verify":
		return runAuditVerify(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "events":
		return runAuditEvents(args[1:], stdout, stderr)
	case len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help"):
		fmt.Fprint(stdout, auditUsage)
		return 0
	}
	fmt.Fprint(stderr, auditUsage)
	return 2
}

// timeFlag is an optional RFC 3339 time.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(v string) error {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return errors.New("want an RFC 3339 time such as 2026-12-02T10:00:00Z")
	}
	f.t = t
	return nil
}

// auditDir is the audit folder of a data directory, or the directory itself when it is an
// audit folder (a copy of DIR/audit).
func auditDir(data string) string {
	d := filepath.Join(data, "audit")
	if _, err := os.Stat(d); err != nil {
		if _, err := os.Stat(filepath.Join(data, "digests")); err == nil {
			return data
		}
	}
	return d
}

// parseAuditFlags parses the flags of an audit command; code >= 0 means return it.
func parseAuditFlags(fs *flag.FlagSet, args []string, data *string, stdout, stderr io.Writer) (code int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(stderr, "coffer %s: %v\n", fs.Name(), err)
		return 2
	}
	if *data == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "coffer %s: --data DIR is required, and no arguments\n", fs.Name())
		return 2
	}
	return -1
}

func runAuditVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var dirs []string
	var data string // the last of dirs, "" when none
	fs.Func("data", "data directory (required, repeatable: one a node); its audit folder, or a copy of it", func(d string) error {
		if d == "" {
			return errors.New("want a directory")
		}
		dirs, data = append(dirs, d), d
		return nil
	})
	var from, to timeFlag
	fs.Var(&from, "from", "check digests whose period ends at or after this time (RFC 3339)")
	fs.Var(&to, "to", "check digests whose period starts at or before this time (RFC 3339)")
	var trusted []string
	fs.Func("public-key", "trust only the signing keys of these fingerprints (repeatable)", func(fp string) error {
		trusted = append(trusted, strings.ToLower(fp))
		return nil
	})
	if code := parseAuditFlags(fs, args, &data, stdout, stderr); code >= 0 {
		return code
	}
	if len(dirs) == 1 {
		_, code := verifyNode(dirs[0], "", from.t, to.t, trusted, stdout, stderr)
		return code
	}
	return verifyNodes(dirs, from.t, to.t, trusted, stdout, stderr)
}

// verifyNode verifies the chain of the data directory data and prints its report, each line
// after indent; it returns the report (nil when none could be made) and the exit code of a
// verify of data alone.
func verifyNode(data, indent string, from, to time.Time, trusted []string, stdout, stderr io.Writer) (*audit.Report, int) {
	dir := auditDir(data)
	rep, err := audit.VerifyTrusting(dir, from, to, trusted)
	if err != nil {
		fmt.Fprintf(stderr, "coffer audit verify: %v\n", oneLine(err))
		return nil, 1
	}
	if rep.Digests == 0 && len(rep.Findings) == 0 {
		fmt.Fprintf(stderr, "coffer audit verify: no digest to check under %s (in the range asked)\n", dir)
		return rep, 1
	}
	for _, f := range rep.Valid {
		fmt.Fprintln(stdout, indent+"valid:", audit.Printable(f))
	}
	for _, f := range rep.Findings {
		fmt.Fprintln(stdout, indent+f.String())
	}
	fmt.Fprintf(stdout, "%s%s: %d digests and %d log files checked, %d findings\n", indent, dir, rep.Digests, rep.LogFiles, len(rep.Findings))
	if len(rep.Findings) > 0 {
		return rep, 1
	}
	return rep, 0
}

func runAuditEvents(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit events", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", "", "data directory (required); its audit folder, or a copy of it")
	var f audit.Filter
	var from, to timeFlag
	fs.StringVar(&f.ResourceName, "key", "", "records about this resource: a KMS key id or ARN, a bucket, any resource ARN")
	fs.StringVar(&f.EventName, "event-name", "", "records of this operation (Decrypt, PutObject ...)")
	fs.StringVar(&f.EventSource, "event-source", "", "records of this service (kms.amazonaws.com ...)")
	fs.StringVar(&f.Username, "user", "", "records of this IAM user (or role)")
	fs.Var(&from, "from", "records at or after this time (RFC 3339)")
	fs.Var(&to, "to", "records at or before this time (RFC 3339)")
	limit := fs.Int("limit", 0, "print at most this many records (0: all)")
	output := fs.String("output", "json", "json (one record a line) or table")
	if code := parseAuditFlags(fs, args, data, stdout, stderr); code >= 0 {
		return code
	}
	if *output != "json" && *output != "table" {
		fmt.Fprintf(stderr, "coffer audit events: --output must be json or table, not %q\n", *output)
		return 2
	}
	f.From, f.To = from.t, to.t
	var tw *tabwriter.Writer
	if *output == "table" {
		tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tSOURCE\tEVENT\tUSER\tERROR\tRESOURCES")
	}
	enc := json.NewEncoder(stdout)
	n := 0
	err := audit.Query(auditDir(*data), f, func(e *audit.Event) bool {
		if tw != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", audit.Printable(e.EventTime), audit.Printable(strings.TrimSuffix(e.EventSource, ".amazonaws.com")),
				audit.Printable(e.EventName), audit.Printable(who(e)), audit.Printable(e.ErrorCode), audit.Printable(resources(e)))
		} else if err := enc.Encode(e); err != nil {
			return false
		}
		n++
		return *limit == 0 || n < *limit
	})
	if tw != nil {
		tw.Flush()
	}
	if err != nil {
		fmt.Fprintf(stderr, "coffer audit events: %v\n", oneLine(err))
		return 1
	}
	return 0
}

// who names the principal of a record for the table.
func who(e *audit.Event) string {
	u := e.UserIdentity
	switch {
	case u.UserName != "":
		return u.UserName
	case u.ARN != "":
		return u.ARN
	case u.InvokedBy != "":
		return u.InvokedBy
	}
	return u.Type
}

func resources(e *audit.Event) string {
	var rs []string
	for _, r := range e.Resources {
		rs = append(rs, r.ARN)
	}
	return strings.Join(rs, ",")
}
