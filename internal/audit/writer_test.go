package audit

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWriterRollDigestVerify(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	w := openTest(t, dir, clk, func(c *Config) { c.DigestEvery = 24 * time.Hour }) // only the digests asked for: the clock jumps an hour below
	record(t, w, 0, 3)
	if err := w.Roll(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	record(t, w, 3, 2)
	if got, want := numbers(t, dir), []int{4, 3, 2, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("Query = %v, want %v", got, want)
	}
	seen := eventNumbers(t, w)
	if want := []int{4, 3, 2, 1, 0}; !slices.Equal(seen, want) {
		t.Errorf("Events = %v, want %v", seen, want)
	}
	clk.Add(time.Hour)
	if err := w.Digest(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	record(t, w, 5, 1)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Record(context.Background(), sampleEvent(9)); err != ErrClosed {
		t.Errorf("Record after Close = %v, want ErrClosed", err)
	}
	logs, err := w.LogFiles("")
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 3 {
		t.Fatalf("%d log files, want 3: %v", len(logs), logs)
	}
	rep, err := Verify(dir, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 || rep.LogFiles != 3 || rep.Digests != 2 {
		t.Errorf("Verify = %+v, want no findings, 3 log files, 2 digests", rep)
	}
}

// TestRecordOutlivesCanceledRequest: the call a record describes has already happened when
// it is recorded, so a caller that goes away (its request context canceled: the client
// closed the connection right after sending a PutKeyPolicy, say) must not leave it without
// a record. Record keeps the record and returns its outcome, whatever the context.
func TestRecordOutlivesCanceledRequest(t *testing.T) {
	w := openTest(t, t.TempDir(), newClock())
	defer w.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 20 { // the select that abandoned a record chose at random
		if err := w.Record(ctx, sampleEvent(i)); err != nil {
			t.Fatalf("Record %d with a canceled context = %v, want the record kept", i, err)
		}
	}
	if got := eventNumbers(t, w); len(got) != 20 {
		t.Errorf("%d records kept, want 20: %v", len(got), got)
	}
}

// TestRecordOmitsLargeFields: a call whose parameters are too large for a record (a 2 MiB
// body of unknown members, say) is recorded without them — marked as omitted — rather than
// failing after the call was made; fields within bounds stay.
func TestRecordOmitsLargeFields(t *testing.T) {
	w := openTest(t, t.TempDir(), newClock())
	defer w.Close(context.Background())
	e := sampleEvent(1)
	e.RequestParameters["policy"] = strings.Repeat("x", 2<<20)
	e.ResponseElements = map[string]any{"keyId": "key-1"}
	if err := w.Record(context.Background(), e); err != nil {
		t.Fatalf("Record of a 2 MiB request = %v, want it kept without its parameters", err)
	}
	var got []*Event
	if err := w.Events(context.Background(), Filter{}, func(e *Event) bool { got = append(got, e); return true }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	r := got[0]
	if r.RequestParameters != nil || r.AdditionalEventData["requestParametersOmitted"] != true || r.ResponseElements["keyId"] != "key-1" || r.EventName != "Decrypt" {
		t.Errorf("record = %+v", r)
	}
}
