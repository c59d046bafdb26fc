package iamapi

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/coffer/coffer/internal/audit"
)

// neverLogged are the parameters and answer elements whose values are never written to a
// record: secret access keys, session tokens, passwords and federation assertions. AWS's
// own AssumeRole records show the session token; Coffer's never do.
var neverLogged = map[string]bool{"SecretAccessKey": true, "SessionToken": true, "Password": true,
	"OldPassword": true, "NewPassword": true, "SAMLAssertion": true, "WebIdentityToken": true, "TokenCode": true}

// numeric are the parameters CloudTrail shows as numbers.
var numeric = map[string]bool{"DurationSeconds": true, "MaxSessionDuration": true, "MaxItems": true}

// record keeps the record of an authenticated call before it is answered. out is the result
// on success; ae the error the client is about to get.
func (h *Handler) record(r *http.Request, c *call, out any, ae *apiError) error {
	source, region := audit.SourceIAM, globalRegion // IAM is global: CloudTrail records it in us-east-1
	if c.service == "sts" {
		source, region = audit.SourceSTS, c.req.Region
	}
	e := audit.NewEvent(c.req, source, c.action)
	e.AWSRegion = region
	e.TLSDetails = audit.TLS(r.TLS, r.Host)
	e.ReadOnly = c.service == "sts" || strings.HasPrefix(c.action, "Get") || strings.HasPrefix(c.action, "List")
	e.RequestParameters = requestParameters(c.form)
	if ae != nil {
		e.Fail(ae.code, ae.message)
	} else if strings.HasPrefix(c.action, "Create") || c.action == "AssumeRole" {
		e.ResponseElements = responseElements(out)
	}
	if c.action == "AssumeRole" {
		if arn := c.get("RoleArn"); arn != "" {
			e.Resources = []audit.Resource{{AccountID: arnAccount(arn), Type: "AWS::IAM::Role", ARN: arn}}
		}
	}
	return h.audit.Record(c.ctx, e)
}

// arnAccount returns the account field of an ARN ("" if it has none).
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// requestParameters returns a call's Query parameters as CloudTrail shows them: names in
// camelCase, lists (Name.member.N[.Field]) as arrays, without Action, Version, the signing
// parameters and the never-logged ones. A call without parameters has none (null).
func requestParameters(form url.Values) map[string]any {
	params := map[string]any{}
	type item struct {
		n int
		v any
	}
	lists := map[string][]item{}
	structs := map[string]map[int]map[string]any{}
	for k, vs := range form {
		if k == "Action" || k == "Version" || strings.HasPrefix(k, "X-Amz-") || len(vs) == 0 {
			continue
		}
		name, rest, isList := strings.Cut(k, ".member.")
		if neverLogged[name] {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		switch {
		case !isList || err != nil:
			params[audit.MemberName(k)] = value(k, vs[0])
		case field == "":
			lists[name] = append(lists[name], item{n, vs[0]})
		default:
			if neverLogged[field] {
				continue
			}
			if structs[name] == nil {
				structs[name] = map[int]map[string]any{}
			}
			if structs[name][n] == nil {
				structs[name][n] = map[string]any{}
			}
			structs[name][n][audit.MemberName(field)] = vs[0]
		}
	}
	for name, m := range structs {
		for n, v := range m {
			lists[name] = append(lists[name], item{n, v})
		}
	}
	for name, items := range lists {
		sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
		vals := make([]any, len(items))
		for i, it := range items {
			vals[i] = it.v
		}
		params[audit.MemberName(name)] = vals
	}
	if len(params) == 0 {
		return nil
	}
	return params
}

func value(name, v string) any {
	if numeric[name] {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return v
}

// responseElements renders a result as CloudTrail shows it: its XML elements as members in
// camelCase (member lists as arrays), without the never-logged ones (the secret key of
// CreateAccessKey, the secret and session token of AssumeRole).
func responseElements(out any) map[string]any {
	if out == nil {
		return nil
	}
	b, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"r"`
		V       any
	}{V: out})
	if err != nil {
		return nil
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Token() // <r>
	d.Token() // <V>
	v, _ := elementValue(d)
	clear(b) // best effort: the answer held secrets
	m, _ := v.(map[string]any)
	return m
}

// elementValue reads the content of the element just opened: its text, or its children as a
// map (or, when they are all <member>, a list); it consumes the end of the element.
func elementValue(d *xml.Decoder) (any, error) {
	var text strings.Builder
	var m map[string]any
	var list []any
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			child, err := elementValue(d)
			if err != nil {
				return nil, err
			}
			if neverLogged[t.Name.Local] {
				continue
			}
			if t.Name.Local == "member" {
				list = append(list, child)
				continue
			}
			if m == nil {
				m = map[string]any{}
			}
			m[audit.MemberName(t.Name.Local)] = child
		case xml.EndElement:
			switch {
			case list != nil:
				return list, nil
			case m != nil:
				return m, nil
			}
			return text.String(), nil
		}
	}
}
