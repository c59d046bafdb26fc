package sigv4

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParsePostPolicy(t *testing.T) {
	const exp = `"expiration": "2030-01-01T00:00:00.000Z"`
	cases := []struct {
		name string
		doc  string
		want *PostPolicy // nil: must be refused as malformed
	}{
		{name: "all condition forms", doc: `{` + exp + `, "conditions": [{"Bucket": "b"}, ["eq", "$Key", "k"], ["starts-with", "$Content-Type", "image/"], ["content-length-range", 1, "10"], {"success_action_status": 201}]}`,
			want: &PostPolicy{Expiration: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), HasLengthRange: true, MinLength: 1, MaxLength: 10,
				Conditions: []PostCondition{{Field: "bucket", Value: "b"}, {Field: "key", Value: "k"}, {StartsWith: true, Field: "content-type", Value: "image/"}, {Field: "success_action_status", Value: "201"}}}},
		{name: "S3 escapes of dollar and vertical tab", doc: `{` + exp + `, "conditions": [["eq", "$key", "a\$b\v\\$"]]}`,
			want: &PostPolicy{Expiration: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Conditions: []PostCondition{{Field: "key", Value: "a$b\v\\$"}}}},
		{name: "two ranges intersect", doc: `{` + exp + `, "conditions": [["content-length-range", 0, 100], ["content-length-range", 10, 1000]]}`,
			want: &PostPolicy{Expiration: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), HasLengthRange: true, MinLength: 10, MaxLength: 100}},
		{name: "missing expiration", doc: `{"conditions": []}`},
		{name: "missing conditions", doc: `{` + exp + `}`},
		{name: "expiration not UTC", doc: `{"expiration": "2030-01-01T00:00:00+01:00", "conditions": []}`},
		{name: "expiration not a date", doc: `{"expiration": "tomorrow", "conditions": []}`},
		{name: "unknown member", doc: `{` + exp + `, "conditions": [], "extra": 1}`},
		{name: "trailing data", doc: `{` + exp + `, "conditions": []} {}`},
		{name: "trailing comma", doc: `{` + exp + `, "conditions": [["eq", "$key", "k"],]}`},
		{name: "condition not a list or map", doc: `{` + exp + `, "conditions": [123]}`},
		{name: "map with two fields", doc: `{` + exp + `, "conditions": [{"a": "1", "b": "2"}]}`},
		{name: "field without dollar", doc: `{` + exp + `, "conditions": [["eq", "key", "k"]]}`},
		{name: "unknown operator", doc: `{` + exp + `, "conditions": [["in", "$key", "k"]]}`},
		{name: "short list", doc: `{` + exp + `, "conditions": [["eq", "$key"]]}`},
		{name: "range reversed", doc: `{` + exp + `, "conditions": [["content-length-range", 10, 1]]}`},
		{name: "range negative", doc: `{` + exp + `, "conditions": [["content-length-range", -1, 1]]}`},
		{name: "range not integers", doc: `{` + exp + `, "conditions": [["content-length-range", 1.5, 2]]}`},
		{name: "too large", doc: `{` + exp + `, "conditions": [["eq", "$key", "` + strings.Repeat("k", MaxPostPolicy) + `"]]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePostPolicy([]byte(tc.doc))
			if tc.want == nil {
				if !errors.Is(err, ErrPolicyMalformed) {
					t.Fatalf("accepted (%+v, %v), want malformed", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, tc.want) {
				t.Errorf("got %+v\nwant %+v", p, tc.want)
			}
		})
	}
}

func TestPostConditionContentTypeList(t *testing.T) {
	c := PostCondition{StartsWith: true, Field: "content-type", Value: "image/"}
	for v, want := range map[string]bool{"image/png": true, "image/png, image/gif": true, "image/png,text/html": false, "text/html": false} {
		if got := c.matches(v); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

var postPolicySeeds = []string{
	`{"expiration": "2030-01-01T00:00:00.000Z", "conditions": [{"bucket": "b"}, ["starts-with", "$key", "user/"], ["content-length-range", 0, 1048576]]}`,
	`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "$success_action_status", "201"], {"x-amz-meta-a": "\$\v"}]}`,
	`{"expiration": "2030-01-01T00:00:00.000Z", "conditions": [["content-length-range", "1", "2"], ["content-length-range", 0, 1]]}`,
	`{"expiration": "x", "conditions": []}`,
	`{"conditions": [[], {}, 1, "a"]}`,
}

// FuzzParsePostPolicy: whatever the parser accepts is well formed and survives a round trip
// through its own rendering in list form.
func FuzzParsePostPolicy(f *testing.F) {
	requireSeedCorpus(f)
	for _, s := range postPolicySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := ParsePostPolicy(doc)
		if err != nil {
			if !errors.Is(err, ErrPolicyMalformed) || p != nil {
				t.Fatalf("failure gave %v, %v", p, err)
			}
			return
		}
		if p.HasLengthRange && (p.MinLength < 0 || p.MaxLength < p.MinLength) {
			t.Fatalf("accepted range %d..%d", p.MinLength, p.MaxLength)
		}
		conds := []any{}
		for _, c := range p.Conditions {
			if c.Field == "" || c.Field != strings.ToLower(c.Field) {
				t.Fatalf("field %q", c.Field)
			}
			op := "eq"
			if c.StartsWith {
				op = "starts-with"
			}
			conds = append(conds, []string{op, "$" + c.Field, c.Value})
		}
		if p.HasLengthRange {
			conds = append(conds, []any{"content-length-range", p.MinLength, p.MaxLength})
		}
		again, err := json.Marshal(map[string]any{"expiration": p.Expiration.UTC().Format(time.RFC3339Nano), "conditions": conds})
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePostPolicy(again)
		if err != nil {
			if len(again) > MaxPostPolicy {
				return // rendering can grow (escapes) past the cap
			}
			t.Fatalf("rendering %s refused: %v", again, err)
		}
		if !q.Expiration.Equal(p.Expiration) || !reflect.DeepEqual(q.Conditions, p.Conditions) || q.HasLengthRange != p.HasLengthRange || q.MinLength != p.MinLength || q.MaxLength != p.MaxLength {
			t.Fatalf("round trip changed %+v into %+v", p, q)
		}
	})
}

// requireSeedCorpus fails a fuzz test whose checked-in corpus did not load: an empty corpus
// would let the target pass while testing nothing.
func requireSeedCorpus(f *testing.F) {
	f.Helper()
	ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", f.Name()))
	if err != nil || len(ents) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s: %v", f.Name(), err)
	}
}
