package main

import (
	"fmt"
	"net"
	"os"
	"testing"
)

// TestNotifySystemdAbstractSocket: a NOTIFY_SOCKET starting with @ names an abstract socket,
// as systemd hands out to services; without NOTIFY_SOCKET nothing is sent and nothing fails.
func TestNotifySystemdAbstractSocket(t *testing.T) {
	name := fmt.Sprintf("@coffer-notify-test-%d", os.Getpid())
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	if err := notifySystemd(envOf(map[string]string{"NOTIFY_SOCKET": name}), "READY=1"); err != nil {
		t.Fatal(err)
	}
	if got := readNotify(t, sock); got != "READY=1" {
		t.Fatalf("got %q, want READY=1", got)
	}
	if err := notifySystemd(envOf(nil), "READY=1"); err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v", err)
	}
	if err := notifySystemd(envOf(map[string]string{"NOTIFY_SOCKET": "vsock:2:1"}), "READY=1"); err == nil {
		t.Fatal("a vsock address was taken for a unix socket")
	}
}
