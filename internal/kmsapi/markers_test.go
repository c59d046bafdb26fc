package kmsapi

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// lister is one paging listing as a test drives it.
type lister struct {
	name string
	// setup makes the entries of the listing.
	setup func(t *testing.T, e *env) *listed
}

// listed is a listing made by setup: list fetches a page; change, called between pages with
// what was listed so far, inserts entries and deletes one already listed.
type listed struct {
	list   func(marker *string) (ids []string, next *string, err error)
	change func(t *testing.T, seen []string)
}

func grantOn(t *testing.T, e *env, key, name string) string {
	t.Helper()
	out, err := e.client.CreateGrant(ctx(), &awskms.CreateGrantInput{KeyId: &key, Name: &name,
		GranteePrincipal: aws.String("arn:aws:iam::111122223333:role/app"), RetiringPrincipal: aws.String("arn:aws:iam::111122223333:role/retirer"),
		Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	if err != nil {
		t.Fatal(err)
	}
	return *out.GrantId
}

// idsOf returns the identifier id picks of each listed item.
func idsOf[T any](items []T, id func(T) *string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = *id(it)
	}
	return out
}

var listers = []lister{
	{"ListKeys", func(t *testing.T, e *env) *listed {
		for range 6 {
			e.createKey(t, nil)
		}
		return &listed{
			list: func(m *string) ([]string, *string, error) {
				out, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Limit: aws.Int32(2), Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return idsOf(out.Keys, func(x types.KeyListEntry) *string { return x.KeyId }), out.NextMarker, nil
			},
			change: func(t *testing.T, seen []string) {
				e.createKey(t, nil)
				e.createKey(t, nil)
				if _, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: &seen[len(seen)-1], PendingWindowInDays: aws.Int32(7)}); err != nil {
					t.Fatal(err)
				}
				e.clock.Add(8 * 24 * time.Hour)
				if err := e.svc.Tick(ctx()); err != nil {
					t.Fatal(err)
				}
			},
		}
	}},
	{"ListAliases", func(t *testing.T, e *env) *listed {
		key := e.createKey(t, nil)
		alias := func(name string) {
			if _, err := e.client.CreateAlias(ctx(), &awskms.CreateAliasInput{AliasName: &name, TargetKeyId: &key}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 6 {
			alias(fmt.Sprintf("alias/m%d", i))
		}
		n := 0
		return &listed{
			list: func(m *string) ([]string, *string, error) {
				out, err := e.client.ListAliases(ctx(), &awskms.ListAliasesInput{KeyId: &key, Limit: aws.Int32(2), Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return idsOf(out.Aliases, func(x types.AliasListEntry) *string { return x.AliasName }), out.NextMarker, nil
			},
			change: func(t *testing.T, seen []string) {
				n++
				alias(fmt.Sprintf("alias/a-before-%d", n))
				alias(fmt.Sprintf("alias/z-after-%d", n))
				if _, err := e.client.DeleteAlias(ctx(), &awskms.DeleteAliasInput{AliasName: &seen[len(seen)-1]}); err != nil {
					t.Fatal(err)
				}
			},
		}
	}},
	{"ListGrants", func(t *testing.T, e *env) *listed {
		key := e.createKey(t, nil)
		for i := range 6 {
			grantOn(t, e, key, fmt.Sprintf("g%d", i))
		}
		n := 0
		return &listed{
			list: func(m *string) ([]string, *string, error) {
				out, err := e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &key, Limit: aws.Int32(2), Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return idsOf(out.Grants, func(x types.GrantListEntry) *string { return x.GrantId }), out.NextMarker, nil
			},
			change: func(t *testing.T, seen []string) {
				n++
				grantOn(t, e, key, fmt.Sprintf("new%d", n))
				if _, err := e.client.RevokeGrant(ctx(), &awskms.RevokeGrantInput{KeyId: &key, GrantId: &seen[len(seen)-1]}); err != nil {
					t.Fatal(err)
				}
			},
		}
	}},
	{"ListRetirableGrants", func(t *testing.T, e *env) *listed {
		keys := []string{e.createKey(t, nil), e.createKey(t, nil)}
		for i := range 6 {
			grantOn(t, e, keys[i%2], fmt.Sprintf("g%d", i))
		}
		n := 0
		return &listed{
			list: func(m *string) ([]string, *string, error) {
				out, err := e.client.ListRetirableGrants(ctx(), &awskms.ListRetirableGrantsInput{
					RetiringPrincipal: aws.String("arn:aws:iam::111122223333:role/retirer"), Limit: aws.Int32(2), Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return idsOf(out.Grants, func(x types.GrantListEntry) *string { return x.GrantId }), out.NextMarker, nil
			},
			change: func(t *testing.T, seen []string) {
				n++
				grantOn(t, e, keys[n%2], fmt.Sprintf("new%d", n))
				grantOn(t, e, e.createKey(t, nil), "on-a-new-key")
				for _, k := range keys {
					e.client.RevokeGrant(ctx(), &awskms.RevokeGrantInput{KeyId: &k, GrantId: &seen[len(seen)-1]})
				}
			},
		}
	}},
	{"ListResourceTags", func(t *testing.T, e *env) *listed {
		key := e.createKey(t, nil)
		tag := func(k string) {
			if _, err := e.client.TagResource(ctx(), &awskms.TagResourceInput{KeyId: &key, Tags: []types.Tag{{TagKey: &k, TagValue: aws.String("v")}}}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 6 {
			tag(fmt.Sprintf("m%d", i))
		}
		n := 0
		return &listed{
			list: func(m *string) ([]string, *string, error) {
				out, err := e.client.ListResourceTags(ctx(), &awskms.ListResourceTagsInput{KeyId: &key, Limit: aws.Int32(2), Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return idsOf(out.Tags, func(x types.Tag) *string { return x.TagKey }), out.NextMarker, nil
			},
			change: func(t *testing.T, seen []string) {
				n++
				tag(fmt.Sprintf("a-before-%d", n))
				tag(fmt.Sprintf("z-after-%d", n))
				if _, err := e.client.UntagResource(ctx(), &awskms.UntagResourceInput{KeyId: &key, TagKeys: seen[len(seen)-1:]}); err != nil {
					t.Fatal(err)
				}
			},
		}
	}},
	{"ListKeyRotations", func(t *testing.T, e *env) *listed {
		key := e.createKey(t, nil)
		rotate := func() {
			if _, err := e.client.RotateKeyOnDemand(ctx(), &awskms.RotateKeyOnDemandInput{KeyId: &key}); err != nil {
				t.Fatal(err)
			}
		}
		for range 6 {
			rotate()
		}
		return &listed{
			list: func(m *string) ([]string, *string, error) {
				out, err := e.client.ListKeyRotations(ctx(), &awskms.ListKeyRotationsInput{KeyId: &key, Limit: aws.Int32(2), Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return idsOf(out.Rotations, func(x types.RotationsListEntry) *string { return x.KeyMaterialId }), out.NextMarker, nil
			},
			change: func(t *testing.T, _ []string) { rotate() },
		}
	}},
}

// listAll lists a listing whole, page by page, with nothing changing in between.
func listAll(t *testing.T, ls *listed) []string {
	t.Helper()
	var all []string
	for m := (*string)(nil); ; {
		ids, next, err := ls.list(m)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids...)
		if next == nil {
			return all
		}
		m = next
	}
}

// TestMarkersStableUnderChange pages every listing two entries at a time and changes the
// list between pages (entries inserted before and after the marker, one already listed
// deleted): every entry that is there throughout is listed exactly once.
func TestMarkersStableUnderChange(t *testing.T) {
	for _, l := range listers {
		t.Run(l.name, func(t *testing.T) {
			e := newEnv(t, "")
			ls := l.setup(t, e)
			initial := listAll(t, ls)
			count := map[string]int{}
			pages := 0
			var seen []string
			for m := (*string)(nil); ; {
				ids, next, err := ls.list(m)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, id := range ids {
					count[id]++
				}
				seen = append(seen, ids...)
				if next == nil {
					break
				}
				ls.change(t, seen)
				m = next
			}
			if pages < 3 {
				t.Fatalf("%d pages; the test needs at least 3", pages)
			}
			final := map[string]bool{}
			for _, id := range listAll(t, ls) {
				final[id] = true
			}
			for _, id := range initial {
				if final[id] && count[id] != 1 {
					t.Errorf("%s, there throughout, listed %d times", id, count[id])
				}
			}
			for id, n := range count {
				if n > 1 {
					t.Errorf("%s listed %d times", id, n)
				}
			}
		})
	}
}

// TestMarkersForged: a marker that this service did not write for this listing, this caller
// and these parameters is InvalidMarkerException.
func TestMarkersForged(t *testing.T) {
	e := newEnv(t, "")
	for range 3 {
		e.createKey(t, nil)
	}
	key := e.createKey(t, nil)
	other := e.createKey(t, nil)
	for i := range 3 {
		grantOn(t, e, key, fmt.Sprintf("g%d", i))
	}
	keys, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Limit: aws.Int32(1)})
	if err != nil || keys.NextMarker == nil {
		t.Fatalf("ListKeys: %v", err)
	}
	grants, err := e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &key, Limit: aws.Int32(1)})
	if err != nil || grants.NextMarker == nil {
		t.Fatalf("ListGrants: %v", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(*keys.NextMarker)
	if err != nil {
		t.Fatalf("marker %q is not base64url: %v", *keys.NextMarker, err)
	}
	flipped := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	// A marker naming the key id a numeric or plain marker would have named.
	plain := base64.RawURLEncoding.EncodeToString(append([]byte{1, 'K', 0, 12}, testAccount...))
	cases := []struct {
		name string
		call func() error
	}{
		{"not base64", func() error {
			_, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Marker: aws.String("garbage!")})
			return err
		}},
		{"an offset", func() error {
			_, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Marker: aws.String("2")})
			return err
		}},
		{"a key id", func() error {
			_, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Marker: &key})
			return err
		}},
		{"without its MAC", func() error {
			_, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Marker: &plain})
			return err
		}},
		{"version byte flipped", func() error {
			_, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Marker: aws.String(flipped(0))})
			return err
		}},
		{"sort key flipped", func() error {
			_, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Marker: aws.String(flipped(len(raw) - 17))})
			return err
		}},
		{"MAC flipped", func() error {
			_, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Marker: aws.String(flipped(len(raw) - 1))})
			return err
		}},
		{"ListKeys marker on ListAliases", func() error {
			_, err := e.client.ListAliases(ctx(), &awskms.ListAliasesInput{Marker: keys.NextMarker})
			return err
		}},
		{"ListKeys marker on ListResourceTags", func() error {
			_, err := e.client.ListResourceTags(ctx(), &awskms.ListResourceTagsInput{KeyId: &key, Marker: keys.NextMarker})
			return err
		}},
		{"ListKeys marker on ListKeyRotations", func() error {
			_, err := e.client.ListKeyRotations(ctx(), &awskms.ListKeyRotationsInput{KeyId: &key, Marker: keys.NextMarker})
			return err
		}},
		{"ListKeys marker on ListRetirableGrants", func() error {
			_, err := e.client.ListRetirableGrants(ctx(), &awskms.ListRetirableGrantsInput{RetiringPrincipal: aws.String("arn:aws:iam::111122223333:role/retirer"), Marker: keys.NextMarker})
			return err
		}},
		{"ListKeys marker on DescribeCustomKeyStores", func() error {
			_, err := e.client.DescribeCustomKeyStores(ctx(), &awskms.DescribeCustomKeyStoresInput{Marker: keys.NextMarker})
			return err
		}},
		{"a key's ListGrants marker on another key", func() error {
			_, err := e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &other, Marker: grants.NextMarker})
			return err
		}},
		{"ListGrants marker with a grantee filter added", func() error {
			_, err := e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &key, GranteePrincipal: aws.String("arn:aws:iam::111122223333:role/app"), Marker: grants.NextMarker})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			wantCode(t, err, "InvalidMarkerException")
		})
	}
	t.Run("the real marker", func(t *testing.T) {
		if _, err := e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &key, Marker: grants.NextMarker}); err != nil {
			t.Fatal(err)
		}
	})
}
