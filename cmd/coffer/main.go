// Command coffer is Coffer's single binary: the server, and tools that talk to it.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}
