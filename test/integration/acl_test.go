package integration

import (
	"context"
	"encoding/xml"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/server"
)

// accountID is the canonical user id Coffer gives the test account (its account id).
func accountID(t *testing.T, e *env) string {
	t.Helper()
	out := must[*s3.ListBucketsOutput](t)(e.s3.ListBuckets(ctx(t), &s3.ListBucketsInput{}))
	if out.Owner == nil || aws.ToString(out.Owner.ID) == "" {
		t.Fatal("ListBuckets names no owner")
	}
	return aws.ToString(out.Owner.ID)
}

// wantOwnerOnly fails unless owner and grants are the account's FULL_CONTROL and nothing else.
func wantOwnerOnly(t *testing.T, account string, owner *types.Owner, grants []types.Grant) {
	t.Helper()
	if owner == nil || aws.ToString(owner.ID) != account || aws.ToString(owner.DisplayName) == "" {
		t.Fatalf("owner %+v, want id %s with a display name", owner, account)
	}
	if len(grants) != 1 {
		t.Fatalf("%d grants, want 1", len(grants))
	}
	g := grants[0]
	if g.Permission != types.PermissionFullControl || g.Grantee == nil || g.Grantee.Type != types.TypeCanonicalUser ||
		aws.ToString(g.Grantee.ID) != account || aws.ToString(g.Grantee.DisplayName) == "" {
		t.Fatalf("grant %+v of %+v, want the owner's FULL_CONTROL", g, g.Grantee)
	}
}

// ownerPolicy is an AccessControlPolicy granting account FULL_CONTROL, plus extra grants.
func ownerPolicy(account string, extra ...types.Grant) *types.AccessControlPolicy {
	return &types.AccessControlPolicy{
		Owner: &types.Owner{ID: aws.String(account)},
		Grants: append([]types.Grant{{
			Grantee:    &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String(account)},
			Permission: types.PermissionFullControl,
		}}, extra...),
	}
}

var allUsersRead = types.Grant{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String("http://acs.amazonaws.com/groups/global/AllUsers")}, Permission: types.PermissionRead}

func TestGetACL(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "acl-read")
	account := accountID(t, e)
	b := aws.String("acl-read")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("o"), Body: stringsReader("x")}))
	t.Run("bucket", func(t *testing.T) {
		out := must[*s3.GetBucketAclOutput](t)(e.s3.GetBucketAcl(c, &s3.GetBucketAclInput{Bucket: b}))
		wantOwnerOnly(t, account, out.Owner, out.Grants)
	})
	t.Run("object", func(t *testing.T) {
		out := must[*s3.GetObjectAclOutput](t)(e.s3.GetObjectAcl(c, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("o")}))
		wantOwnerOnly(t, account, out.Owner, out.Grants)
	})
	t.Run("missing object", func(t *testing.T) {
		_, err := e.s3.GetObjectAcl(c, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("missing")})
		wantAPIError(t, err, "NoSuchKey", 404)
	})
	t.Run("missing bucket", func(t *testing.T) {
		_, err := e.s3.GetBucketAcl(c, &s3.GetBucketAclInput{Bucket: aws.String("no-such-bucket")})
		wantAPIError(t, err, "NoSuchBucket", 404)
	})
}

// TestPutACL: with ACLs disabled (the default) S3 refuses every ACL write; with them enabled
// Coffer accepts the owner's own full control, however spelt, and nothing more.
func TestPutACL(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	account := accountID(t, e)
	newBucket(t, e, "acl-enforced")
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("acl-enabled"), ObjectOwnership: types.ObjectOwnershipObjectWriter}))
	for _, bucket := range []string{"acl-enforced", "acl-enabled"} {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("o"), Body: stringsReader("x")}))
	}
	type acl struct {
		canned types.BucketCannedACL
		grant  string
		policy *types.AccessControlPolicy
	}
	cases := []struct {
		name    string
		acl     acl
		enabled string // the error with ACLs enabled, "" for success
	}{
		{"canned private", acl{canned: types.BucketCannedACLPrivate}, ""},
		{"canned bucket-owner-full-control", acl{canned: "bucket-owner-full-control"}, ""},
		{"owner grant header", acl{grant: `id="` + account + `"`}, ""},
		{"owner policy", acl{policy: ownerPolicy(account)}, ""},
		{"canned public-read", acl{canned: types.BucketCannedACLPublicRead}, "AccessControlListNotSupported"},
		{"grant to another account", acl{grant: `id="` + account + `", id="210987654321"`}, "AccessControlListNotSupported"},
		{"policy with all users", acl{policy: ownerPolicy(account, allUsersRead)}, "AccessControlListNotSupported"},
	}
	for _, tc := range cases {
		for _, bucket := range []string{"acl-enforced", "acl-enabled"} {
			want := tc.enabled
			if bucket == "acl-enforced" {
				want = "AccessControlListNotSupported"
			}
			check := func(t *testing.T, err error) {
				t.Helper()
				if want == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantAPIError(t, err, want, 400)
			}
			t.Run(bucket+"/bucket/"+tc.name, func(t *testing.T) {
				_, err := e.s3.PutBucketAcl(c, &s3.PutBucketAclInput{Bucket: aws.String(bucket), ACL: tc.acl.canned,
					GrantFullControl: aws.String(tc.acl.grant), AccessControlPolicy: tc.acl.policy})
				check(t, err)
				out := must[*s3.GetBucketAclOutput](t)(e.s3.GetBucketAcl(c, &s3.GetBucketAclInput{Bucket: aws.String(bucket)}))
				wantOwnerOnly(t, account, out.Owner, out.Grants)
			})
			t.Run(bucket+"/object/"+tc.name, func(t *testing.T) {
				_, err := e.s3.PutObjectAcl(c, &s3.PutObjectAclInput{Bucket: aws.String(bucket), Key: aws.String("o"), ACL: types.ObjectCannedACL(tc.acl.canned),
					GrantFullControl: aws.String(tc.acl.grant), AccessControlPolicy: tc.acl.policy})
				check(t, err)
				out := must[*s3.GetObjectAclOutput](t)(e.s3.GetObjectAcl(c, &s3.GetObjectAclInput{Bucket: aws.String(bucket), Key: aws.String("o")}))
				wantOwnerOnly(t, account, out.Owner, out.Grants)
			})
		}
	}
	t.Run("missing object", func(t *testing.T) {
		_, err := e.s3.PutObjectAcl(c, &s3.PutObjectAclInput{Bucket: aws.String("acl-enabled"), Key: aws.String("missing"), ACL: types.ObjectCannedACLPrivate})
		wantAPIError(t, err, "NoSuchKey", 404)
	})
	t.Run("canned and grant headers", func(t *testing.T) {
		_, err := e.s3.PutBucketAcl(c, &s3.PutBucketAclInput{Bucket: aws.String("acl-enabled"), ACL: types.BucketCannedACLPrivate, GrantFullControl: aws.String("id=" + account)})
		wantAPIError(t, err, "InvalidRequest", 400)
	})
}

// TestPutACLRequestShape: requests the SDK will not build, sent raw.
func TestPutACLRequestShape(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	account := accountID(t, e)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String("acl-raw"), ObjectOwnership: types.ObjectOwnershipBucketOwnerPreferred}))
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("acl-raw"), Key: aws.String("o"), Body: stringsReader("x")}))
	ownerDoc := `<AccessControlPolicy><Owner><ID>` + account + `</ID></Owner><AccessControlList><Grant>` +
		`<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>` + account + `</ID></Grantee>` +
		`<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`
	cases := []struct {
		name    string
		body    string
		headers map[string]string
		code    string
		status  int
	}{
		{"owner policy", ownerDoc, nil, "", 200},
		{"malformed XML", ownerDoc[:80], nil, "MalformedACLError", 400},
		{"no owner", `<AccessControlPolicy><AccessControlList/></AccessControlPolicy>`, nil, "MalformedACLError", 400},
		{"unknown permission", `<AccessControlPolicy><Owner><ID>` + account + `</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>` + account + `</ID></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>`, nil, "MalformedACLError", 400},
		{"another owner", `<AccessControlPolicy><Owner><ID>210987654321</ID></Owner><AccessControlList/></AccessControlPolicy>`, nil, "AccessDenied", 403},
		{"header and body", ownerDoc, map[string]string{"x-amz-acl": "private"}, "UnexpectedContent", 400},
		{"neither header nor body", "", nil, "MissingSecurityHeader", 400},
		{"malformed grant header", "", map[string]string{"x-amz-grant-read": "everyone"}, "InvalidArgument", 400},
	}
	for _, tc := range cases {
		for _, path := range []string{"/acl-raw?acl", "/acl-raw/o?acl"} {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				resp := e.raw(t, http.MethodPut, path, tc.body, tc.headers, nowUTC())
				if tc.code == "" {
					if resp.StatusCode != tc.status {
						t.Fatalf("status %d: %s", resp.StatusCode, mustRead(t, resp))
					}
					return
				}
				wantRawError(t, resp, tc.code, tc.status)
			})
		}
	}
}

// TestWritesWithACL: writes that create objects accept an ACL restating the owner's full
// control and refuse any other, as S3 with ACLs disabled.
func TestWritesWithACL(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	account := accountID(t, e)
	newBucket(t, e, "acl-writes")
	b := aws.String("acl-writes")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("src"), Body: stringsReader("x")}))
	type acl struct {
		canned types.ObjectCannedACL
		grant  string
	}
	cases := []struct {
		name string
		acl  acl
		ok   bool
	}{
		{"private", acl{canned: types.ObjectCannedACLPrivate}, true},
		{"bucket-owner-full-control", acl{canned: types.ObjectCannedACLBucketOwnerFullControl}, true},
		{"owner grant", acl{grant: "id=" + account}, true},
		{"public-read", acl{canned: types.ObjectCannedACLPublicRead}, false},
		{"authenticated-read", acl{canned: types.ObjectCannedACLAuthenticatedRead}, false},
		{"grant to another account", acl{grant: "id=210987654321"}, false},
	}
	for _, tc := range cases {
		check := func(t *testing.T, err error) {
			t.Helper()
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, "AccessControlListNotSupported", 400)
		}
		t.Run("PutObject/"+tc.name, func(t *testing.T) {
			_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: b, Key: aws.String("put"), Body: stringsReader("x"), ACL: tc.acl.canned, GrantFullControl: aws.String(tc.acl.grant)})
			check(t, err)
		})
		t.Run("CopyObject/"+tc.name, func(t *testing.T) {
			_, err := e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String("acl-writes/src"), ACL: tc.acl.canned, GrantFullControl: aws.String(tc.acl.grant)})
			check(t, err)
		})
		t.Run("CreateMultipartUpload/"+tc.name, func(t *testing.T) {
			_, err := e.s3.CreateMultipartUpload(c, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp"), ACL: tc.acl.canned, GrantFullControl: aws.String(tc.acl.grant)})
			check(t, err)
		})
	}
	t.Run("written object's ACL", func(t *testing.T) {
		out := must[*s3.GetObjectAclOutput](t)(e.s3.GetObjectAcl(c, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("put")}))
		wantOwnerOnly(t, account, out.Owner, out.Grants)
	})
}

func TestCreateBucketACLAndOwnership(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	account := accountID(t, e)
	cases := []struct {
		name      string
		in        s3.CreateBucketInput
		code      string
		ownership types.ObjectOwnership // stored on success
	}{
		{"default", s3.CreateBucketInput{}, "", types.ObjectOwnershipBucketOwnerEnforced},
		{"private", s3.CreateBucketInput{ACL: types.BucketCannedACLPrivate}, "", types.ObjectOwnershipBucketOwnerEnforced},
		{"owner grant", s3.CreateBucketInput{GrantFullControl: aws.String("id=" + account)}, "", types.ObjectOwnershipBucketOwnerEnforced},
		{"public-read", s3.CreateBucketInput{ACL: types.BucketCannedACLPublicRead}, "InvalidBucketAclWithObjectOwnership", ""},
		{"enforced and public-read", s3.CreateBucketInput{ACL: types.BucketCannedACLPublicRead, ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}, "InvalidBucketAclWithObjectOwnership", ""},
		{"grant read to all", s3.CreateBucketInput{GrantRead: aws.String(`uri="http://acs.amazonaws.com/groups/global/AllUsers"`)}, "InvalidBucketAclWithObjectOwnership", ""},
		{"object writer", s3.CreateBucketInput{ObjectOwnership: types.ObjectOwnershipObjectWriter}, "", types.ObjectOwnershipObjectWriter},
		{"preferred and private", s3.CreateBucketInput{ObjectOwnership: types.ObjectOwnershipBucketOwnerPreferred, ACL: types.BucketCannedACLPrivate}, "", types.ObjectOwnershipBucketOwnerPreferred},
		{"object writer and public-read", s3.CreateBucketInput{ObjectOwnership: types.ObjectOwnershipObjectWriter, ACL: types.BucketCannedACLPublicRead}, "AccessControlListNotSupported", ""},
		{"unknown ownership", s3.CreateBucketInput{ObjectOwnership: "Everyone"}, "InvalidArgument", ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Bucket = aws.String("own-" + string(rune('a'+i)))
			_, err := e.s3.CreateBucket(c, &in)
			if tc.code != "" {
				wantAPIError(t, err, tc.code, 400)
				_, err := e.s3.HeadBucket(c, &s3.HeadBucketInput{Bucket: in.Bucket})
				wantAPIError(t, err, "NotFound", 404)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out := must[*s3.GetBucketOwnershipControlsOutput](t)(e.s3.GetBucketOwnershipControls(c, &s3.GetBucketOwnershipControlsInput{Bucket: in.Bucket}))
			if got := ownershipOf(out); got != tc.ownership {
				t.Fatalf("ownership %q, want %q", got, tc.ownership)
			}
		})
	}
}

func ownershipOf(out *s3.GetBucketOwnershipControlsOutput) types.ObjectOwnership {
	if out.OwnershipControls == nil || len(out.OwnershipControls.Rules) != 1 {
		return "(not one rule)"
	}
	return out.OwnershipControls.Rules[0].ObjectOwnership
}

func TestOwnershipControls(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "own")
	b := aws.String("own")
	get := func(t *testing.T) types.ObjectOwnership {
		t.Helper()
		return ownershipOf(must[*s3.GetBucketOwnershipControlsOutput](t)(e.s3.GetBucketOwnershipControls(c, &s3.GetBucketOwnershipControlsInput{Bucket: b})))
	}
	put := func(o types.ObjectOwnership) error {
		_, err := e.s3.PutBucketOwnershipControls(c, &s3.PutBucketOwnershipControlsInput{Bucket: b,
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: o}}}})
		return err
	}
	t.Run("default", func(t *testing.T) {
		if got := get(t); got != types.ObjectOwnershipBucketOwnerEnforced {
			t.Fatalf("ownership %q", got)
		}
	})
	for _, o := range []types.ObjectOwnership{types.ObjectOwnershipBucketOwnerPreferred, types.ObjectOwnershipObjectWriter, types.ObjectOwnershipBucketOwnerEnforced} {
		t.Run("put "+string(o), func(t *testing.T) {
			if err := put(o); err != nil {
				t.Fatal(err)
			}
			if got := get(t); got != o {
				t.Fatalf("ownership %q, want %q", got, o)
			}
		})
	}
	t.Run("delete", func(t *testing.T) {
		must[*s3.DeleteBucketOwnershipControlsOutput](t)(e.s3.DeleteBucketOwnershipControls(c, &s3.DeleteBucketOwnershipControlsInput{Bucket: b}))
		_, err := e.s3.GetBucketOwnershipControls(c, &s3.GetBucketOwnershipControlsInput{Bucket: b})
		wantAPIError(t, err, "OwnershipControlsNotFoundError", 404)
		// Without ownership controls S3 has ACLs enabled, as under ObjectWriter.
		must[*s3.PutBucketAclOutput](t)(e.s3.PutBucketAcl(c, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPrivate}))
		must[*s3.DeleteBucketOwnershipControlsOutput](t)(e.s3.DeleteBucketOwnershipControls(c, &s3.DeleteBucketOwnershipControlsInput{Bucket: b}))
		if err := put(types.ObjectOwnershipBucketOwnerEnforced); err != nil {
			t.Fatal(err)
		}
		_, err = e.s3.PutBucketAcl(c, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPrivate})
		wantAPIError(t, err, "AccessControlListNotSupported", 400)
	})
	t.Run("unknown setting", func(t *testing.T) {
		wantAPIError(t, put("Everyone"), "MalformedXML", 400)
	})
	t.Run("missing bucket", func(t *testing.T) {
		_, err := e.s3.GetBucketOwnershipControls(c, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("no-such-bucket")})
		wantAPIError(t, err, "NoSuchBucket", 404)
		_, err = e.s3.DeleteBucketOwnershipControls(c, &s3.DeleteBucketOwnershipControlsInput{Bucket: aws.String("no-such-bucket")})
		wantAPIError(t, err, "NoSuchBucket", 404)
	})
	doc := func(rules string) string { return `<OwnershipControls>` + rules + `</OwnershipControls>` }
	raw := []struct {
		name   string
		body   string
		md5    bool
		code   string
		status int
	}{
		{"no digest", doc(`<Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule>`), false, "InvalidRequest", 400},
		{"no rule", doc(""), true, "MalformedXML", 400},
		{"two rules", doc(`<Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule>`), true, "MalformedXML", 400},
		{"not XML", "ObjectWriter", true, "MalformedXML", 400},
	}
	for _, tc := range raw {
		t.Run("raw/"+tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.md5 {
				h["Content-MD5"] = md5b64(tc.body)
			}
			wantRawError(t, e.raw(t, http.MethodPut, "/own?ownershipControls", tc.body, h, nowUTC()), tc.code, tc.status)
		})
	}
	t.Run("raw/get shape", func(t *testing.T) {
		resp := e.raw(t, http.MethodGet, "/own?ownershipControls", "", nil, nowUTC())
		var got struct {
			XMLName xml.Name
			Rules   []string `xml:"Rule>ObjectOwnership"`
		}
		if err := xml.Unmarshal(mustRead(t, resp), &got); err != nil || got.XMLName.Local != "OwnershipControls" || got.XMLName.Space != "http://s3.amazonaws.com/doc/2006-03-01/" || len(got.Rules) != 1 {
			t.Fatalf("GET ?ownershipControls = %+v, %v", got, err)
		}
	})
}

// TestOwnershipSurvivesRestart: the setting lives in the bucket's metadata record, not in the
// serving process.
func TestOwnershipSurvivesRestart(t *testing.T) {
	// The first server is stopped by hand, so started without startServer's cleanup.
	dir := t.TempDir()
	srv, err := server.Start(server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	first := &env{t: t, dir: dir, srv: srv, region: "us-east-1"}
	first.s3 = first.client(testAccessKey, testSecretKey, nil)
	c := ctx(t)
	for _, b := range []string{"kept-writer", "kept-deleted", "kept-default"} {
		newBucket(t, first, b)
	}
	must[*s3.PutBucketOwnershipControlsOutput](t)(first.s3.PutBucketOwnershipControls(c, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String("kept-writer"),
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}}}))
	must[*s3.DeleteBucketOwnershipControlsOutput](t)(first.s3.DeleteBucketOwnershipControls(c, &s3.DeleteBucketOwnershipControlsInput{Bucket: aws.String("kept-deleted")}))
	sc, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sc); err != nil {
		t.Fatal(err)
	}

	e := startServer(t, dir)
	out := must[*s3.GetBucketOwnershipControlsOutput](t)(e.s3.GetBucketOwnershipControls(c, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("kept-writer")}))
	if got := ownershipOf(out); got != types.ObjectOwnershipObjectWriter {
		t.Fatalf("after restart %q, want ObjectWriter", got)
	}
	out = must[*s3.GetBucketOwnershipControlsOutput](t)(e.s3.GetBucketOwnershipControls(c, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("kept-default")}))
	if got := ownershipOf(out); got != types.ObjectOwnershipBucketOwnerEnforced {
		t.Fatalf("after restart %q, want BucketOwnerEnforced", got)
	}
	_, err = e.s3.GetBucketOwnershipControls(c, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("kept-deleted")})
	wantAPIError(t, err, "OwnershipControlsNotFoundError", 404)
}
