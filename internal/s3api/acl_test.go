package s3api

import (
	"encoding/xml"
	"net/http"
	"testing"

	"github.com/coffer/coffer/internal/fuzzseed"
)

const testOwner = "123456789012"

func TestHeaderACL(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		want    aclAsked
		err     *apiError
	}{
		{"none", nil, aclNone, nil},
		{"private", map[string]string{"x-amz-acl": "private"}, aclOwnerOnly, nil},
		{"bucket-owner-full-control", map[string]string{"x-amz-acl": "bucket-owner-full-control"}, aclOwnerOnly, nil},
		{"public-read", map[string]string{"x-amz-acl": "public-read"}, aclOthers, nil},
		{"unknown canned", map[string]string{"x-amz-acl": "everyone"}, aclOthers, nil},
		{"owner full control", map[string]string{"x-amz-grant-full-control": `id="` + testOwner + `"`}, aclOwnerOnly, nil},
		{"owner full control unquoted", map[string]string{"x-amz-grant-full-control": "id=" + testOwner}, aclOwnerOnly, nil},
		{"owner read", map[string]string{"x-amz-grant-read": "id=" + testOwner}, aclOthers, nil},
		{"another account", map[string]string{"x-amz-grant-full-control": `id="` + testOwner + `", id="210987654321"`}, aclOthers, nil},
		{"all users", map[string]string{"x-amz-grant-read": `uri="http://acs.amazonaws.com/groups/global/AllUsers"`}, aclOthers, nil},
		{"email", map[string]string{"x-amz-grant-full-control": `emailAddress="a@example.com"`}, aclOthers, nil},
		{"canned and grant", map[string]string{"x-amz-acl": "private", "x-amz-grant-full-control": "id=" + testOwner}, aclNone, errCannedAndGrants},
		{"bad grantee type", map[string]string{"x-amz-grant-read": `name="x"`}, aclNone, errInvalidGrantHeader},
		{"no value", map[string]string{"x-amz-grant-read": `id=`}, aclNone, errInvalidGrantHeader},
		{"no equals", map[string]string{"x-amz-grant-read": `id`}, aclNone, errInvalidGrantHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			got, err := headerACL(h, testOwner)
			if got != tc.want || (tc.err == nil) != (err == nil) || (tc.err != nil && err != tc.err) {
				t.Fatalf("headerACL = %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func aclDoc(grants string) string {
	return `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>` + testOwner + `</ID></Owner><AccessControlList>` + grants + `</AccessControlList></AccessControlPolicy>`
}

func aclGrantXML(typ, field, value, perm string) string {
	return `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="` + typ + `"><` + field + `>` + value + `</` + field + `></Grantee><Permission>` + perm + `</Permission></Grant>`
}

func TestBodyACL(t *testing.T) {
	ownerGrant := aclGrantXML("CanonicalUser", "ID", testOwner, "FULL_CONTROL")
	cases := []struct {
		name string
		body string
		want aclAsked
		err  *apiError
	}{
		{"ownerGrant full control", aclDoc(ownerGrant), aclOwnerOnly, nil},
		{"ownerGrant twice", aclDoc(ownerGrant + ownerGrant), aclOwnerOnly, nil},
		{"no namespace", `<AccessControlPolicy><Owner><ID>` + testOwner + `</ID></Owner><AccessControlList>` + ownerGrant + `</AccessControlList></AccessControlPolicy>`, aclOwnerOnly, nil},
		{"ownerGrant read only", aclDoc(aclGrantXML("CanonicalUser", "ID", testOwner, "READ")), aclOthers, nil},
		{"another account", aclDoc(ownerGrant + aclGrantXML("CanonicalUser", "ID", "210987654321", "READ")), aclOthers, nil},
		{"all users", aclDoc(ownerGrant + aclGrantXML("Group", "URI", "http://acs.amazonaws.com/groups/global/AllUsers", "READ")), aclOthers, nil},
		{"email", aclDoc(aclGrantXML("AmazonCustomerByEmail", "EmailAddress", "a@example.com", "FULL_CONTROL")), aclOthers, nil},
		{"empty list", aclDoc(""), aclOthers, nil},
		{"no list", `<AccessControlPolicy><Owner><ID>` + testOwner + `</ID></Owner></AccessControlPolicy>`, aclOthers, nil},
		{"other ownerGrant", `<AccessControlPolicy><Owner><ID>210987654321</ID></Owner><AccessControlList>` + ownerGrant + `</AccessControlList></AccessControlPolicy>`, aclNone, errAccessDenied},
		{"no ownerGrant", `<AccessControlPolicy><AccessControlList>` + ownerGrant + `</AccessControlList></AccessControlPolicy>`, aclNone, errMalformedACL},
		{"bad permission", aclDoc(aclGrantXML("CanonicalUser", "ID", testOwner, "EVERYTHING")), aclNone, errMalformedACL},
		{"bad grantee type", aclDoc(aclGrantXML("Robot", "ID", testOwner, "FULL_CONTROL")), aclNone, errMalformedACL},
		{"no grantee type", aclDoc(`<Grant><Grantee><ID>` + testOwner + `</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>`), aclNone, errMalformedACL},
		{"group without URI", aclDoc(aclGrantXML("Group", "ID", testOwner, "READ")), aclNone, errMalformedACL},
		{"two lists", aclDoc(ownerGrant + `</AccessControlList><AccessControlList>` + ownerGrant), aclNone, errMalformedACL},
		{"truncated", aclDoc(ownerGrant)[:60], aclNone, errMalformedACL},
		{"other root", `<Policy><Owner><ID>` + testOwner + `</ID></Owner></Policy>`, aclNone, errMalformedACL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bodyACL([]byte(tc.body), testOwner)
			if got != tc.want || (tc.err == nil) != (err == nil) || (tc.err != nil && err != tc.err) {
				t.Fatalf("bodyACL = %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
		})
	}
	t.Run("what GetBucketAcl answers", func(t *testing.T) {
		// A client that reads the ACL and writes it back (get-bucket-acl, then put-bucket-acl
		// --access-control-policy) restates the owner-only ACL.
		doc, err := xml.Marshal(ownerOnlyACL(owner{ID: testOwner, DisplayName: "coffer"}))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := bodyACL(doc, testOwner); got != aclOwnerOnly || err != nil {
			t.Fatalf("bodyACL(own rendering) = %v, %v", got, err)
		}
	})
}

func TestParseOwnershipControls(t *testing.T) {
	doc := func(rules string) string {
		return `<OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + rules + `</OwnershipControls>`
	}
	rule := func(v string) string { return `<Rule><ObjectOwnership>` + v + `</ObjectOwnership></Rule>` }
	cases := []struct {
		name string
		body string
		want string
		ok   bool
	}{
		{"enforced", doc(rule("BucketOwnerEnforced")), "BucketOwnerEnforced", true},
		{"preferred", doc(rule("BucketOwnerPreferred")), "BucketOwnerPreferred", true},
		{"object writer", doc(rule("ObjectWriter")), "ObjectWriter", true},
		{"unknown", doc(rule("Everyone")), "", false},
		{"lower case", doc(rule("objectwriter")), "", false},
		{"no rule", doc(""), "", false},
		{"two rules", doc(rule("ObjectWriter") + rule("BucketOwnerEnforced")), "", false},
		{"empty", "", "", false},
		{"other root", `<Ownership>` + rule("ObjectWriter") + `</Ownership>`, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseOwnershipControls([]byte(tc.body))
			if got != tc.want || (err == nil) != tc.ok || (err != nil && err != errMalformedXML) {
				t.Fatalf("parseOwnershipControls = %q, %v; want %q, ok %v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func FuzzBodyACL(f *testing.F) {
	fuzzseed.Require(f)
	f.Add([]byte(aclDoc(aclGrantXML("CanonicalUser", "ID", testOwner, "FULL_CONTROL"))))
	f.Add([]byte(aclDoc(aclGrantXML("Group", "URI", "http://acs.amazonaws.com/groups/global/AllUsers", "READ"))))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := bodyACL(body, testOwner)
		switch {
		case err != nil && (got != aclNone || (err != errMalformedACL && err != errAccessDenied)):
			t.Fatalf("failure gave %v, %v", got, err)
		case err == nil && got == aclNone:
			t.Fatal("a parsed document must ask for something")
		}
	})
}

func FuzzParseOwnershipControls(f *testing.F) {
	fuzzseed.Require(f)
	f.Add([]byte(`<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := parseOwnershipControls(body)
		if err != nil {
			if err != errMalformedXML || got != "" {
				t.Fatalf("failure gave %q, %v", got, err)
			}
			return
		}
		// What was understood survives a round trip through the rendering GET answers.
		again, err := xml.Marshal(newOwnershipControls(got))
		if err != nil {
			t.Fatal(err)
		}
		if got2, err := parseOwnershipControls(again); err != nil || got2 != got {
			t.Fatalf("round trip of %q gave %q, %v", got, got2, err)
		}
	})
}
