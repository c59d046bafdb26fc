package main

import (
	"fmt"
	"net"
	"strings"
)

// notifySystemd sends state (READY=1, STOPPING=1) to the service manager that started the
// process with $NOTIFY_SOCKET, as sd_notify(3) does: one datagram on a unix socket, a path or,
// with a leading @, an abstract name. Without $NOTIFY_SOCKET it does nothing. This is all of
// the protocol a Type=notify unit needs; it is not worth a dependency.
func notifySystemd(getenv func(string) string, state string) error {
	path := getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "@") {
		return fmt.Errorf("NOTIFY_SOCKET %q is neither a path nor an abstract socket", path)
	}
	// Go's net package turns a leading @ into the abstract namespace's NUL.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	return nil
}
