package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/server"
)

// verifyNodes verifies the chains of several nodes' data directories (nodes sharing stores
// keep an audit chain each, in their own DIR/audit), each on its own, and prints each node's
// report under its name, then a total. Two directories holding one node's chain (the same
// node id, or a signing key in both: a copy of one given twice) are a finding too, as a
// node left out would go unseen. It returns 1 when any chain has findings or none to check.
func verifyNodes(dirs []string, from, to time.Time, trusted []string, stdout, stderr io.Writer) int {
	code := 0
	var digests, logFiles, findings, failed int
	seenNode := map[string]string{} // node id -> the directory it was seen in
	seenKey := map[string]string{}  // signing key fingerprint -> the directory
	for _, data := range dirs {
		node := nodeIDOf(data)
		name := node
		if name == "" {
			name = "(no node-id file)"
		}
		fmt.Fprintf(stdout, "node %s: %s\n", name, audit.Printable(data))
		rep, c := verifyNode(data, "  ", from, to, trusted, stdout, stderr)
		if rep != nil {
			digests, logFiles, findings = digests+rep.Digests, logFiles+rep.LogFiles, findings+len(rep.Findings)
		}
		if c != 0 {
			code, failed = 1, failed+1
		}
		if other, ok := seenNode[node]; ok && node != "" {
			fmt.Fprintf(stdout, "  same node: %s and %s are both node %s\n", audit.Printable(other), audit.Printable(data), node)
			code, findings = 1, findings+1
		}
		seenNode[node] = data
		keys, _ := audit.PublicKeys(auditDir(data)) // a chain whose keys are unreadable has findings of its own
		for _, k := range keys {
			if other, ok := seenKey[k.Fingerprint]; ok && other != data {
				fmt.Fprintf(stdout, "  same node: %s and %s hold the signing key %s\n", audit.Printable(other), audit.Printable(data), k.Fingerprint)
				code, findings = 1, findings+1
				break
			}
			seenKey[k.Fingerprint] = data
		}
	}
	fmt.Fprintf(stdout, "total: %d nodes, %d digests and %d log files checked, %d findings, %d nodes failed\n",
		len(dirs), digests, logFiles, findings, failed)
	return code
}

// nodeIDOf is the node id in the data directory data ("" when it has none: an audit folder
// copied alone, or a directory of a server from before node ids).
func nodeIDOf(data string) string {
	b, err := os.ReadFile(filepath.Join(data, server.NodeIDFile))
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(string(b))
	if !server.ValidNodeID(id) {
		return ""
	}
	return id
}
