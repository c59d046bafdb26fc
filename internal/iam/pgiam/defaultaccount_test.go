package pgiam_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/pgtest"
)

// TestSettleDefaultAccount: nodes starting together on one database each propose a default
// account; exactly one proposal wins and every node, then and later, gets that one.
func TestSettleDefaultAccount(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	const nodes = 6
	got := make([]iam.Account, nodes)
	won := make([]bool, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		s := newNode(t, url)
		wg.Go(func() {
			var err error
			got[i], won[i], err = s.SettleDefaultAccount(context.Background(), iam.Account{ID: fmt.Sprintf("1000000000%02d", i), DisplayName: fmt.Sprintf("node%d", i)})
			if err != nil {
				t.Errorf("node %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	winners := 0
	for i := range nodes {
		if got[i] != got[0] {
			t.Fatalf("node %d settled on %+v, node 0 on %+v", i, got[i], got[0])
		}
		if won[i] {
			winners++
			if got[i].ID != fmt.Sprintf("1000000000%02d", i) || got[i].DisplayName != fmt.Sprintf("node%d", i) {
				t.Fatalf("node %d won with %+v, not its proposal", i, got[i])
			}
		}
	}
	if winners != 1 {
		t.Fatalf("%d proposals won, want 1", winners)
	}
	later, w, err := newNode(t, url).SettleDefaultAccount(context.Background(), iam.Account{ID: "999999999999", DisplayName: "late"})
	if err != nil || w || later != got[0] {
		t.Fatalf("a later node: %+v won=%v %v, want %+v", later, w, err, got[0])
	}
}
