package policy

import (
	"fmt"
	"testing"
)

func TestCache(t *testing.T) {
	c := NewCache(ResourceKind, 2)
	doc := func(i int) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"s%d","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, i)
	}
	p1, err := c.Get(doc(1))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Get(doc(1)); again != p1 {
		t.Fatal("the same text compiled twice")
	}
	for i := 2; i <= 5; i++ {
		if _, err := c.Get(doc(i)); err != nil {
			t.Fatal(err)
		}
		if c.Len() > 2 {
			t.Fatalf("cache holds %d policies, bound 2", c.Len())
		}
	}
	if _, err := c.Get(`{"Statement":[]}`); err == nil {
		t.Fatal("an invalid policy compiled")
	}
	if _, err := NewCache(IdentityKind, 8).Get(doc(1)); err == nil {
		t.Fatal("a cache of identity policies accepted a Principal")
	}
	r := &Request{Principal: Principal{Anonymous: true}, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}
	if p, _ := c.Get(doc(3)); p.Evaluate(r) != Allow {
		t.Fatal("cached policy does not evaluate")
	}
}
