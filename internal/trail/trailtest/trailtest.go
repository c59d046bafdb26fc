// Package trailtest is the conformance suite every trail.Store must pass.
//
//	func TestConformance(t *testing.T) {
//		trailtest.Run(t, func(t *testing.T) trail.Store { return newStore(t) })
//	}
package trailtest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/trail"
)

// Run runs the whole suite. open must return a new empty store on each call and arrange its
// cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) trail.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s trail.Store)
	}{
		{"CreateGetDelete", testCreateGetDelete},
		{"ListByAccount", testList},
		{"Update", testUpdate},
		{"LimitPerAccount", testLimit},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"NodeDeliveries", testNodeDeliveries},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

const (
	acctA = "111122223333"
	acctB = "444455556666"
)

var t0 = time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)

func sample(account, name string) trail.Trail {
	return trail.Trail{
		Account: account, Name: name, HomeRegion: "us-east-1", S3BucketName: "logs", S3KeyPrefix: "p",
		IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true, Created: t0,
		Tags: []trail.Tag{{Key: "team", Value: "sec"}},
		EventSelectors: []trail.EventSelector{{ReadWriteType: trail.ReadWrite, IncludeManagementEvents: true,
			DataResources: []trail.DataResource{{Type: trail.S3ObjectType, Values: []string{"arn:aws:s3:::b/"}}}}},
		HasCustomEventSelectors: true,
		Status:                  trail.Status{IsLogging: true, StartLoggingTime: t0},
		Delivery: trail.Delivery{Cursor: "logs/x", PeriodStart: t0,
			Pending:  []trail.DeliveredLog{{S3Bucket: "logs", S3Object: "k", SHA256: "ab", OldestEventTime: t0, NewestEventTime: t0}},
			Previous: &trail.DigestLink{S3Bucket: "logs", S3Object: "d", SHA256: "cd", Signature: "ef"}},
	}
}

func testCreateGetDelete(t *testing.T, s trail.Store) {
	ctx := context.Background()
	want := sample(acctA, "main")
	if err := s.Create(ctx, want, 5); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.Create(ctx, want, 5); !errors.Is(err, trail.ErrTrailExists) {
		t.Fatalf("second Create: %v, want ErrTrailExists", err)
	}
	got, err := s.Get(ctx, acctA, "main")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.Get(ctx, acctB, "main"); !errors.Is(err, trail.ErrTrailNotFound) {
		t.Fatalf("Get in another account: %v, want ErrTrailNotFound", err)
	}
	if err := s.Delete(ctx, acctA, "main"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx, acctA, "main"); !errors.Is(err, trail.ErrTrailNotFound) {
		t.Fatalf("second Delete: %v, want ErrTrailNotFound", err)
	}
	if _, err := s.Get(ctx, acctA, "main"); !errors.Is(err, trail.ErrTrailNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
}

func testList(t *testing.T, s trail.Store) {
	ctx := context.Background()
	for _, tr := range []trail.Trail{sample(acctB, "b1"), sample(acctA, "a2"), sample(acctA, "a1")} {
		if err := s.Create(ctx, tr, 5); err != nil {
			t.Fatal(err)
		}
	}
	names := func(ts []trail.Trail) (out []string) {
		for _, tr := range ts {
			out = append(out, tr.Account+"/"+tr.Name)
		}
		return out
	}
	for _, tc := range []struct {
		account string
		want    []string
	}{
		{acctA, []string{acctA + "/a1", acctA + "/a2"}},
		{acctB, []string{acctB + "/b1"}},
		{"", []string{acctA + "/a1", acctA + "/a2", acctB + "/b1"}},
		{"999999999999", nil},
	} {
		t.Run("account="+tc.account, func(t *testing.T) {
			got, err := s.List(ctx, tc.account)
			if err != nil || !reflect.DeepEqual(names(got), tc.want) {
				t.Fatalf("List = %v, %v; want %v", names(got), err, tc.want)
			}
		})
	}
}

func testUpdate(t *testing.T, s trail.Store) {
	ctx := context.Background()
	if err := s.Create(ctx, sample(acctA, "main"), 5); err != nil {
		t.Fatal(err)
	}
	got, err := s.Update(ctx, acctA, "main", func(tr *trail.Trail) error { tr.Delivery.Cursor = "logs/y"; return nil })
	if err != nil || got.Delivery.Cursor != "logs/y" {
		t.Fatalf("Update = %+v, %v", got.Delivery, err)
	}
	refuse := errors.New("no")
	if _, err := s.Update(ctx, acctA, "main", func(tr *trail.Trail) error { tr.Delivery.Cursor = "logs/z"; return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("refused Update: %v", err)
	}
	if tr, _ := s.Get(ctx, acctA, "main"); tr.Delivery.Cursor != "logs/y" {
		t.Fatalf("a refused Update stored %q", tr.Delivery.Cursor)
	}
	if _, err := s.Update(ctx, acctB, "main", func(*trail.Trail) error { return nil }); !errors.Is(err, trail.ErrTrailNotFound) {
		t.Fatalf("Update of a missing trail: %v", err)
	}
}

func testLimit(t *testing.T, s trail.Store) {
	ctx := context.Background()
	for _, name := range []string{"t1", "t2"} {
		if err := s.Create(ctx, sample(acctA, name), 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, sample(acctA, "t3"), 2); !errors.Is(err, trail.ErrTooManyTrails) {
		t.Fatalf("third trail: %v, want ErrTooManyTrails", err)
	}
	if err := s.Create(ctx, sample(acctB, "t3"), 2); err != nil {
		t.Fatalf("another account's trail: %v", err)
	}
}

func testConcurrentUpdates(t *testing.T, s trail.Store) {
	ctx := context.Background()
	if err := s.Create(ctx, sample(acctA, "main"), 5); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := s.Update(ctx, acctA, "main", func(tr *trail.Trail) error {
				tr.Delivery.Pending = append(tr.Delivery.Pending, trail.DeliveredLog{S3Object: "x"})
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tr, err := s.Get(ctx, acctA, "main")
	if err != nil || len(tr.Delivery.Pending) != 21 {
		t.Fatalf("after 20 concurrent appends: %d pending, %v; want 21", len(tr.Delivery.Pending), err)
	}
}

// testNodeDeliveries: the delivery states of nodes sharing the store are kept per node, and
// an update of one node's leaves the other's as it was.
func testNodeDeliveries(t *testing.T, s trail.Store) {
	ctx := context.Background()
	tr := sample(acctA, "main")
	tr.Delivery = trail.Delivery{}
	tr.Deliveries = map[string]trail.NodeDelivery{
		"node1": {Delivery: trail.Delivery{Cursor: "a", PeriodStart: t0}, From: t0},
		"node2": {Delivery: trail.Delivery{Cursor: "b", PeriodStart: t0, Closing: true}, From: t0, Until: t0.Add(time.Hour)},
	}
	if err := s.Create(ctx, tr, 5); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, acctA, "main"); err != nil || !reflect.DeepEqual(got.Deliveries, tr.Deliveries) {
		t.Fatalf("Get = %+v, %v; want %+v", got.Deliveries, err, tr.Deliveries)
	}
	_, err := s.Update(ctx, acctA, "main", func(st *trail.Trail) error {
		e := st.Deliveries["node1"]
		e.Cursor = "a2"
		st.Deliveries["node1"] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, acctA, "main")
	if err != nil || got.Deliveries["node1"].Cursor != "a2" || !reflect.DeepEqual(got.Deliveries["node2"], tr.Deliveries["node2"]) {
		t.Fatalf("after updating node1: %+v, %v", got.Deliveries, err)
	}
}
