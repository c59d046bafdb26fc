package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NodeIDFile is the file of a data directory that holds its node id.
const NodeIDFile = "node-id"

// loadNodeID returns the node id of the data directory dir, making it on first start: 16
// random hex digits, in dir/node-id (0600, fsynced, directory too). A node's id is what tells
// its share of state kept for several nodes apart (each node's CloudTrail delivery cursor and
// digest chain in the trail store, and the keys it delivers under), so it lives with what is
// the node's own: its data directory. A copy of a data directory is the same node: give each
// node a directory of its own.
func loadNodeID(dir string) (string, error) {
	path := filepath.Join(dir, NodeIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if !ValidNodeID(id) {
			return "", fmt.Errorf("node id in %s is not 16 hex digits", path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("node id: %w", err)
	}
	raw := make([]byte, 8)
	rand.Read(raw)
	id := hex.EncodeToString(raw)
	if err := writeSynced(dir, NodeIDFile, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	return id, nil
}

// writeSynced writes b into dir/name (0600) whole or not at all: into a temporary file,
// fsynced, renamed over name, and dir fsynced.
func writeSynced(dir, name string, b []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ValidNodeID reports whether id has the form of a node id: 16 lowercase hex digits.
func ValidNodeID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NodeID is this node's id (see loadNodeID).
func (s *Server) NodeID() string { return s.nodeID }
