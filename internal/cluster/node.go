package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"os"
)

// NewNodeID returns a node id: the host name, for people reading logs and the leases table,
// and 8 random bytes, so that two processes on one host, or one process restarted, are
// different nodes.
func NewNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	return host + "-" + hex.EncodeToString(rnd[:])
}
