package integration

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// taggable drives the tag operations of one kind of IAM resource (user, role, policy) by
// name, as Terraform's aws provider does for its tags argument.
type taggable struct {
	kind   string
	create func(t *testing.T, tags []iamtypes.Tag) error // creates the resource with tags
	get    func(t *testing.T) []iamtypes.Tag             // Get{User,Role,Policy}'s tags
	list   func(t *testing.T) ([]iamtypes.Tag, error)
	tag    func(t *testing.T, tags []iamtypes.Tag) error
	untag  func(t *testing.T, keys []string) error
	// missing tags a resource that does not exist.
	missing func(t *testing.T) error
}

func tagsOf(kv ...string) []iamtypes.Tag {
	var out []iamtypes.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, iamtypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// tagMap turns tags into key=value strings, in order, for comparison.
func tagMap(tags []iamtypes.Tag) []string {
	out := []string{}
	for _, t := range tags {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return out
}

func (e *env) taggables(t *testing.T) []taggable {
	ic := e.iamAs(rootCreds)
	var policyARN string
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	return []taggable{{
		kind: "user",
		create: func(t *testing.T, tags []iamtypes.Tag) error {
			out, err := ic.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("tagged"), Tags: tags})
			if err == nil && !reflect.DeepEqual(tagMap(out.User.Tags), tagMap(tags)) {
				t.Errorf("CreateUser answered tags %v", tagMap(out.User.Tags))
			}
			return err
		},
		get: func(t *testing.T) []iamtypes.Tag {
			return must[*iam.GetUserOutput](t)(ic.GetUser(ctx(t), &iam.GetUserInput{UserName: aws.String("tagged")})).User.Tags
		},
		list: func(t *testing.T) ([]iamtypes.Tag, error) {
			out, err := ic.ListUserTags(ctx(t), &iam.ListUserTagsInput{UserName: aws.String("tagged")})
			if err != nil {
				return nil, err
			}
			return out.Tags, nil
		},
		tag: func(t *testing.T, tags []iamtypes.Tag) error {
			_, err := ic.TagUser(ctx(t), &iam.TagUserInput{UserName: aws.String("tagged"), Tags: tags})
			return err
		},
		untag: func(t *testing.T, keys []string) error {
			_, err := ic.UntagUser(ctx(t), &iam.UntagUserInput{UserName: aws.String("tagged"), TagKeys: keys})
			return err
		},
		missing: func(t *testing.T) error {
			_, err := ic.TagUser(ctx(t), &iam.TagUserInput{UserName: aws.String("nobody"), Tags: tagsOf("a", "b")})
			return err
		},
	}, {
		kind: "role",
		create: func(t *testing.T, tags []iamtypes.Tag) error {
			out, err := ic.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("tagged"), AssumeRolePolicyDocument: aws.String(trust), Tags: tags})
			if err == nil && !reflect.DeepEqual(tagMap(out.Role.Tags), tagMap(tags)) {
				t.Errorf("CreateRole answered tags %v", tagMap(out.Role.Tags))
			}
			return err
		},
		get: func(t *testing.T) []iamtypes.Tag {
			return must[*iam.GetRoleOutput](t)(ic.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("tagged")})).Role.Tags
		},
		list: func(t *testing.T) ([]iamtypes.Tag, error) {
			out, err := ic.ListRoleTags(ctx(t), &iam.ListRoleTagsInput{RoleName: aws.String("tagged")})
			if err != nil {
				return nil, err
			}
			return out.Tags, nil
		},
		tag: func(t *testing.T, tags []iamtypes.Tag) error {
			_, err := ic.TagRole(ctx(t), &iam.TagRoleInput{RoleName: aws.String("tagged"), Tags: tags})
			return err
		},
		untag: func(t *testing.T, keys []string) error {
			_, err := ic.UntagRole(ctx(t), &iam.UntagRoleInput{RoleName: aws.String("tagged"), TagKeys: keys})
			return err
		},
		missing: func(t *testing.T) error {
			_, err := ic.TagRole(ctx(t), &iam.TagRoleInput{RoleName: aws.String("nobody"), Tags: tagsOf("a", "b")})
			return err
		},
	}, {
		kind: "policy",
		create: func(t *testing.T, tags []iamtypes.Tag) error {
			out, err := ic.CreatePolicy(ctx(t), &iam.CreatePolicyInput{PolicyName: aws.String("tagged"), PolicyDocument: aws.String(allowAll), Tags: tags})
			if err == nil {
				policyARN = *out.Policy.Arn
				if !reflect.DeepEqual(tagMap(out.Policy.Tags), tagMap(tags)) {
					t.Errorf("CreatePolicy answered tags %v", tagMap(out.Policy.Tags))
				}
			}
			return err
		},
		get: func(t *testing.T) []iamtypes.Tag {
			return must[*iam.GetPolicyOutput](t)(ic.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String(policyARN)})).Policy.Tags
		},
		list: func(t *testing.T) ([]iamtypes.Tag, error) {
			out, err := ic.ListPolicyTags(ctx(t), &iam.ListPolicyTagsInput{PolicyArn: aws.String(policyARN)})
			if err != nil {
				return nil, err
			}
			return out.Tags, nil
		},
		tag: func(t *testing.T, tags []iamtypes.Tag) error {
			_, err := ic.TagPolicy(ctx(t), &iam.TagPolicyInput{PolicyArn: aws.String(policyARN), Tags: tags})
			return err
		},
		untag: func(t *testing.T, keys []string) error {
			_, err := ic.UntagPolicy(ctx(t), &iam.UntagPolicyInput{PolicyArn: aws.String(policyARN), TagKeys: keys})
			return err
		},
		missing: func(t *testing.T) error {
			_, err := ic.TagPolicy(ctx(t), &iam.TagPolicyInput{PolicyArn: aws.String(policyARN + "-nobody"), Tags: tagsOf("a", "b")})
			return err
		},
	}}
}

// TestIAMTags: tags given on create are stored and answered by Get and List*Tags; Tag*
// adds and replaces (keys ignore case), Untag* removes; IAM's limits and errors hold for
// users, roles and managed policies alike.
func TestIAMTags(t *testing.T) {
	e := startServer(t)
	many := func(n int, prefix string) []iamtypes.Tag {
		var kv []string
		for i := range n {
			kv = append(kv, fmt.Sprintf("%s%02d", prefix, i), "v")
		}
		return tagsOf(kv...)
	}
	for _, r := range e.taggables(t) {
		t.Run(r.kind, func(t *testing.T) {
			wantAPIError(t, r.create(t, tagsOf("a", "1", "A", "2")), "InvalidInput", http.StatusBadRequest)
			wantAPIError(t, r.create(t, many(51, "k")), "ValidationError", http.StatusBadRequest)
			if err := r.create(t, tagsOf("team", "blue", "Cost Center", "")); err != nil {
				t.Fatal(err)
			}
			if got := tagMap(r.get(t)); !reflect.DeepEqual(got, []string{"team=blue", "Cost Center="}) {
				t.Errorf("Get tags = %v", got)
			}
			steps := []struct {
				name   string
				run    func() error
				code   string
				status int
				want   []string // the tags after the step
			}{
				{"tag replaces ignoring case", func() error { return r.tag(t, tagsOf("TEAM", "red", "env", "prod")) }, "", 0,
					[]string{"TEAM=red", "Cost Center=", "env=prod"}},
				{"untag ignores case and unknown keys", func() error { return r.untag(t, []string{"cost center", "nope"}) }, "", 0,
					[]string{"TEAM=red", "env=prod"}},
				{"duplicate keys", func() error { return r.tag(t, tagsOf("x", "1", "X", "2")) }, "InvalidInput", 400, nil},
				{"reserved prefix", func() error { return r.tag(t, tagsOf("aws:owner", "me")) }, "InvalidInput", 400, nil},
				{"key too long", func() error { return r.tag(t, tagsOf(strings.Repeat("k", 129), "v")) }, "ValidationError", 400, nil},
				{"empty key", func() error { return r.tag(t, tagsOf("", "v")) }, "ValidationError", 400, nil},
				{"value too long", func() error { return r.tag(t, tagsOf("k", strings.Repeat("v", 257))) }, "ValidationError", 400, nil},
				{"bad character", func() error { return r.tag(t, tagsOf("k", "a;b")) }, "ValidationError", 400, nil},
				{"more than 50 at once", func() error { return r.tag(t, many(51, "m")) }, "ValidationError", 400, nil},
				{"more than 50 in all", func() error { return r.tag(t, many(49, "n")) }, "LimitExceeded", 409, nil},
				{"50 in all", func() error { return r.tag(t, many(48, "n")) }, "", 0, nil},
				{"no such resource", func() error { return r.missing(t) }, "NoSuchEntity", 404, nil},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					err := st.run()
					if st.code != "" {
						wantAPIError(t, err, st.code, st.status)
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if st.want == nil {
						return
					}
					got, err := r.list(t)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(tagMap(got), st.want) {
						t.Errorf("List tags = %v, want %v", tagMap(got), st.want)
					}
					if g := tagMap(r.get(t)); !reflect.DeepEqual(g, st.want) {
						t.Errorf("Get tags = %v, want %v", g, st.want)
					}
				})
			}
			if got, err := r.list(t); err != nil || len(got) != 50 {
				t.Errorf("List tags: %d tags, %v; want 50", len(got), err)
			}
		})
	}
}

// TestIAMTagsPaging: List*Tags pages by MaxItems and Marker, as Terraform's paginators read it.
func TestIAMTagsPaging(t *testing.T) {
	e := startServer(t)
	ic := e.iamAs(rootCreds)
	var kv []string
	for i := range 5 {
		kv = append(kv, fmt.Sprintf("k%d", i), "v")
	}
	must[*iam.CreateUserOutput](t)(ic.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("u"), Tags: tagsOf(kv...)}))
	var got []string
	p := iam.NewListUserTagsPaginator(ic, &iam.ListUserTagsInput{UserName: aws.String("u"), MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out := must[*iam.ListUserTagsOutput](t)(p.NextPage(ctx(t)))
		got = append(got, tagMap(out.Tags)...)
		pages++
	}
	if pages != 3 || len(got) != 5 || got[4] != "k4=v" {
		t.Errorf("%d pages: %v", pages, got)
	}
	users := must[*iam.ListUsersOutput](t)(ic.ListUsers(ctx(t), &iam.ListUsersInput{}))
	if len(users.Users) != 1 || len(users.Users[0].Tags) != 0 {
		t.Errorf("ListUsers = %+v, want no tags (IAM's lists leave them out)", users.Users)
	}
}

// TestIAMTagWireShapes checks the XML of tags as IAM writes it: Tags>member>Key,Value in
// CreateUser and GetUser, and an empty <Tags></Tags> in ListUserTags of an untagged user.
func TestIAMTagWireShapes(t *testing.T) {
	e := startServer(t)
	cases := []struct {
		name, form string
		status     int
		want       []string
	}{
		{"create user with tags", "Action=CreateUser&Version=2010-05-08&UserName=wire&Tags.member.1.Key=team&Tags.member.1.Value=blue", 200,
			[]string{`</CreateDate><Tags><member><Key>team</Key><Value>blue</Value></member></Tags></User></CreateUserResult>`}},
		{"get user", "Action=GetUser&Version=2010-05-08&UserName=wire", 200,
			[]string{`<Tags><member><Key>team</Key><Value>blue</Value></member></Tags></User></GetUserResult>`}},
		{"list user tags", "Action=ListUserTags&Version=2010-05-08&UserName=wire", 200,
			[]string{`<ListUserTagsResult><Tags><member><Key>team</Key><Value>blue</Value></member></Tags><IsTruncated>false</IsTruncated></ListUserTagsResult>`}},
		{"untag user", "Action=UntagUser&Version=2010-05-08&UserName=wire&TagKeys.member.1=team", 200,
			[]string{`<UntagUserResponse `}},
		{"list no tags", "Action=ListUserTags&Version=2010-05-08&UserName=wire", 200,
			[]string{`<ListUserTagsResult><Tags></Tags><IsTruncated>false</IsTruncated></ListUserTagsResult>`}},
		{"untag without keys", "Action=UntagUser&Version=2010-05-08&UserName=wire", 400,
			[]string{`<Code>ValidationError</Code><Message>1 validation error detected: Value null at &#39;tagKeys&#39; failed to satisfy constraint: Member must not be null</Message>`}},
		{"tag without tags", "Action=TagUser&Version=2010-05-08&UserName=wire", 400,
			[]string{`<Code>ValidationError</Code><Message>1 validation error detected: Value null at &#39;tags&#39;`}},
		{"reserved key", "Action=TagUser&Version=2010-05-08&UserName=wire&Tags.member.1.Key=AWS:x&Tags.member.1.Value=", 400,
			[]string{`<Type>Sender</Type><Code>InvalidInput</Code>`}},
		{"update role result", "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=" +
			"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22*%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D", 200,
			[]string{`<CreateRoleResult>`}},
		{"update role", "Action=UpdateRole&Version=2010-05-08&RoleName=r&Description=d", 200,
			[]string{`<UpdateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><UpdateRoleResult></UpdateRoleResult><ResponseMetadata>`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { e.wantQueryAnswer(t, "iam", "us-east-1", tc.form, tc.status, tc.want) })
	}
}

// TestIAMTagAuthorization: tag actions are authorized as iam:TagUser, iam:ListUserTags ... on
// the user, role or policy; a caller without them is refused and changes nothing.
func TestIAMTagAuthorization(t *testing.T) {
	e := startServer(t)
	alice, _ := e.newUser(t, rootCreds, "alice")
	must[*iam.CreateUserOutput](t)(e.iamAs(rootCreds).CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("bob"), Tags: tagsOf("team", "blue")}))
	ic := e.iamAs(alice)
	bob := aws.String("bob")
	_, err := ic.TagUser(ctx(t), &iam.TagUserInput{UserName: bob, Tags: tagsOf("team", "red")})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	_, err = ic.ListUserTags(ctx(t), &iam.ListUserTagsInput{UserName: bob})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
	e.putUserPolicy(t, rootCreds, "alice", "tags", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUserTags","Resource":"arn:aws:iam::*:user/bob"}]}`)
	out := must[*iam.ListUserTagsOutput](t)(ic.ListUserTags(ctx(t), &iam.ListUserTagsInput{UserName: bob}))
	if got := tagMap(out.Tags); !reflect.DeepEqual(got, []string{"team=blue"}) {
		t.Errorf("bob's tags = %v, want the refused TagUser to have changed nothing", got)
	}
	_, err = ic.UntagUser(ctx(t), &iam.UntagUserInput{UserName: bob, TagKeys: []string{"team"}})
	wantAPIError(t, err, "AccessDenied", http.StatusForbidden)
}
