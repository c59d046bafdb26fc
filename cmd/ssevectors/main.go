// Command ssevectors writes the test vectors of internal/sse: a JSON manifest, the ciphertext
// files it names and the fuzz seed corpora. Run from the repository root:
//
//	go run ./cmd/ssevectors
//
// Its output is deterministic: every key and salt comes from a ChaCha8 generator with a fixed
// seed, and every plaintext byte i is i mod 251. The keys are published test keys, never used
// for anything else. internal/sse's tests check the files; rerun this only when the format
// changes, and then bump the version.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "internal/sse/testdata", "directory to write the vectors to")
	flag.Parse()
	if err := generate(*out); err != nil {
		fmt.Fprintln(os.Stderr, "ssevectors:", err)
		os.Exit(1)
	}
}
