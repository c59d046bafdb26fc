package server

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ReadyCheck is one thing /readyz asks before it calls the server ready: a store answering,
// say. Check returns nil when it is.
type ReadyCheck struct {
	Name  string
	Check func(context.Context) error
}

// readyTimeout bounds each check: a store that takes longer is not ready.
const readyTimeout = 2 * time.Second

func serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, "ok\n")
}

// readiness serves /readyz: every check runs at once, each within readyTimeout. The answer
// names each check and whether it passed, never its error (which might name a host or a
// connection string); the log gets the error.
type readiness struct {
	checks  []ReadyCheck
	log     *slog.Logger
	timeout time.Duration // 0: readyTimeout
}

func (rd readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	timeout := rd.timeout
	if timeout <= 0 {
		timeout = readyTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	errs := make([]chan error, len(rd.checks))
	for i, c := range rd.checks {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- c.Check(ctx) }()
	}
	var b strings.Builder
	ready := true
	for i, c := range rd.checks {
		var err error
		select {
		case err = <-errs[i]:
		case <-ctx.Done():
			// A check that hangs is left to finish on its own: the probe answers now.
			err = fmt.Errorf("no answer within %s", timeout)
		}
		if err != nil {
			ready = false
			fmt.Fprintf(&b, "%s: failed\n", c.Name)
			if rd.log != nil {
				rd.log.Warn("readiness check failed", "check", c.Name, "err", err)
			}
			continue
		}
		fmt.Fprintf(&b, "%s: ok\n", c.Name)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "not ready\n", b.String())
		return
	}
	fmt.Fprint(w, "ready\n", b.String())
}

// readyChecks are the stores' own checks (backend.Stores.Checks), in name order: for the
// embedded stores meta.db (which holds the metadata, the KMS keys, IAM and the trails) answers
// a read transaction and the blob directory is there; for shared ones the database and the
// blob store answer.
func (s *Server) readyChecks() []ReadyCheck {
	var checks []ReadyCheck
	for _, name := range slices.Sorted(maps.Keys(s.stores.Checks)) {
		checks = append(checks, ReadyCheck{Name: name, Check: s.stores.Checks[name]})
	}
	return checks
}
