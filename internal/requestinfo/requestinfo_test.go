package requestinfo

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestSettersWithoutInfoDoNothing(t *testing.T) {
	ctx := context.Background()
	SetOperation(ctx, "GetObject")
	SetErrorCode(ctx, "NoSuchKey")
	if FromContext(ctx) != nil {
		t.Fatal("Info from a bare context")
	}
}

func TestSetters(t *testing.T) {
	info := &Info{ID: "ABC"}
	ctx := NewContext(context.Background(), info)
	SetOperation(ctx, "GetObject")
	SetErrorCode(ctx, "NoSuchKey")
	SetErrorCode(ctx, "InternalError")
	if info.Operation() != "GetObject" || info.ErrorCode() != "InternalError" {
		t.Errorf("got %q %q", info.Operation(), info.ErrorCode())
	}
}

func TestHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx := NewContext(context.Background(), &Info{ID: "REQ1"})
	log.InfoContext(ctx, "with context")
	log.InfoContext(ctx, "names its own", "request_id", "REQ1")
	log.Info("without context")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	for i, want := range []string{"REQ1", "REQ1", ""} {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		got, _ := m["request_id"].(string)
		if got != want || m["component"] != "test" {
			t.Errorf("line %d: request_id %q, want %q: %s", i, got, want, lines[i])
		}
		if n := strings.Count(lines[i], `"request_id"`); n > 1 {
			t.Errorf("line %d names request_id %d times", i, n)
		}
	}
}
