package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/coffer/coffer/internal/bench"
)

// runBench is `coffer bench`. Ctrl-C stops the load early; the results so far are printed
// and what the run created is still removed. A second Ctrl-C kills the process at once.
func runBench(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default action for the next signal
	}()
	return bench.Main(ctx, args, stdout, stderr, getenv)
}
