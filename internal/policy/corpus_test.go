package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir holds one directory per policy: policy.json (the document exactly as a user would
// send it) and cases.json (corpusCases: how it parses and evaluates).
const corpusDir = "testdata/corpus"

// corpusCases is a corpus entry's cases.json.
type corpusCases struct {
	Kind string `json:"kind"` // "identity", "resource" or "trust"
	// Public is what IsPublic must answer (resource policies).
	Public *bool `json:"public"`
	// Context is merged under every case's own context.
	Context map[string][]string `json:"context"`
	// For cases with a Decision: the account owning the resource, whether the policy is
	// authoritative (a KMS key policy), and each principal's identity-based policies.
	ResourceAccount string              `json:"resourceAccount"`
	Authoritative   bool                `json:"authoritative"`
	Identity        map[string][]string `json:"identity"`
	Cases           []corpusCase        `json:"cases"`
}

// corpusCase is one request against the policy and the effect Evaluate must return.
type corpusCase struct {
	Name string `json:"name"`
	// Principal is an ARN (user, root, assumed-role session), "anonymous", or
	// "service:<name>"; Account and RoleARN are derived from it.
	Principal string              `json:"principal"`
	Action    string              `json:"action"`
	Resource  string              `json:"resource"`
	Context   map[string][]string `json:"context"`
	Want      string              `json:"want"` // Allow, AllowAccount, Deny, NotApplicable
	// Decision, when set, is what Decide answers with the principal's identity policies:
	// "allowed", "implicit deny" or "explicit deny".
	Decision string `json:"decision"`
}

// decisionOf names a Decision as corpus cases write it.
func decisionOf(d Decision) string {
	switch {
	case d.Allowed:
		return "allowed"
	case d.ExplicitDeny:
		return "explicit deny"
	}
	return "implicit deny"
}

func kindOf(t testing.TB, s string) Kind {
	switch s {
	case "identity":
		return IdentityKind
	case "resource":
		return ResourceKind
	case "trust":
		return TrustKind
	}
	t.Fatalf("unknown kind %q", s)
	return 0
}

// principalOf builds a Principal from a test's shorthand.
func principalOf(t testing.TB, s string) Principal {
	switch {
	case s == "anonymous":
		return Principal{Anonymous: true}
	case strings.HasPrefix(s, "service:"):
		return Principal{Service: strings.TrimPrefix(s, "service:")}
	}
	f, ok := splitARN(s)
	if !ok {
		t.Fatalf("bad principal %q", s)
	}
	p := Principal{ARN: s, Account: f.account}
	if rest, ok := strings.CutPrefix(f.resource, "assumed-role/"); ok {
		role, _, _ := strings.Cut(rest, "/")
		p.RoleARN = "arn:" + f.partition + ":iam::" + f.account + ":role/" + role
	}
	return p
}

// lowerKeys returns the context with keys lower-cased, as Request.Context wants them, merged
// over base.
func lowerKeys(base, ctx map[string][]string) map[string][]string {
	out := make(map[string][]string, len(base)+len(ctx))
	for k, v := range base {
		out[strings.ToLower(k)] = v
	}
	for k, v := range ctx {
		out[strings.ToLower(k)] = v
	}
	return out
}

// corpusEntry is one loaded corpus directory.
type corpusEntry struct {
	name  string
	doc   string
	cases corpusCases
}

func loadCorpus(t testing.TB) []corpusEntry {
	dirs, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusEntry
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		doc, err := os.ReadFile(filepath.Join(corpusDir, d.Name(), "policy.json"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(corpusDir, d.Name(), "cases.json"))
		if err != nil {
			t.Fatal(err)
		}
		e := corpusEntry{name: d.Name(), doc: string(doc)}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e.cases); err != nil {
			t.Fatalf("%s/cases.json: %v", d.Name(), err)
		}
		out = append(out, e)
	}
	if len(out) < 10 {
		t.Fatalf("corpus has %d policies; did testdata load?", len(out))
	}
	return out
}

// TestCorpus parses every corpus policy and checks each of its cases' effect, and IsPublic.
func TestCorpus(t *testing.T) {
	for _, e := range loadCorpus(t) {
		t.Run(e.name, func(t *testing.T) {
			p, err := Parse(e.doc, kindOf(t, e.cases.Kind))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if e.cases.Public != nil && p.IsPublic() != *e.cases.Public {
				t.Errorf("IsPublic() = %v, want %v", p.IsPublic(), *e.cases.Public)
			}
			if len(e.cases.Cases) == 0 {
				t.Fatal("no cases")
			}
			for _, c := range e.cases.Cases {
				t.Run(c.Name, func(t *testing.T) {
					r := &Request{
						Principal: principalOf(t, c.Principal),
						Action:    c.Action,
						Resource:  c.Resource,
						Context:   lowerKeys(e.cases.Context, c.Context),
					}
					if got := p.Evaluate(r).String(); got != c.Want {
						t.Errorf("Evaluate = %s, want %s", got, c.Want)
					}
					if c.Decision == "" {
						return
					}
					in := Inputs{Resource: p, ResourceAccount: e.cases.ResourceAccount, ResourceAuthoritative: e.cases.Authoritative}
					for _, doc := range e.cases.Identity[c.Principal] {
						in.Identity = append(in.Identity, mustParse(t, doc, IdentityKind))
					}
					if got := decisionOf(Decide(r, in)); got != c.Decision {
						t.Errorf("Decide = %s, want %s", got, c.Decision)
					}
				})
			}
		})
	}
}
