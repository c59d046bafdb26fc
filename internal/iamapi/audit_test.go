package iamapi

import (
	"encoding/json"
	"net/url"
	"testing"
)

func TestRequestParameters(t *testing.T) {
	tests := []struct {
		name string
		form string
		want string
	}{
		{"plain", "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2F", `{"path":"/","userName":"alice"}`},
		{"numbers", "Action=AssumeRole&RoleArn=arn:aws:iam::1:role/r&RoleSessionName=s&DurationSeconds=900",
			`{"durationSeconds":900,"roleArn":"arn:aws:iam::1:role/r","roleSessionName":"s"}`},
		{"lists", "Action=CreateUser&UserName=u&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.1.Key=a&Tags.member.1.Value=1&TagKeys.member.1=x",
			`{"tagKeys":["x"],"tags":[{"key":"a","value":"1"},{"key":"b","value":"2"}],"userName":"u"}`},
		{"never logged", "Action=X&SecretAccessKey=s&SessionToken=t&Password=p&WebIdentityToken=w", `null`},
		{"none", "Action=ListUsers&Version=2010-05-08", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form, _ := url.ParseQuery(tt.form)
			got, _ := json.Marshal(requestParameters(form))
			if string(got) != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestResponseElements(t *testing.T) {
	type credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	tests := []struct {
		name string
		out  any
		want string
	}{
		{"CreateAccessKey", struct {
			AccessKey accessKeyXML `xml:"AccessKey"`
		}{accessKeyXML{UserName: "alice", AccessKeyID: "AKIA1", Status: "Active", SecretAccessKey: "the-secret", CreateDate: "2026-01-01T00:00:00Z"}},
			`{"accessKey":{"accessKeyId":"AKIA1","createDate":"2026-01-01T00:00:00Z","status":"Active","userName":"alice"}}`},
		{"AssumeRole", struct {
			Credentials credentials `xml:"Credentials"`
		}{credentials{"ASIA1", "the-secret", "the-token", "2026-01-01T01:00:00Z"}},
			`{"credentials":{"accessKeyId":"ASIA1","expiration":"2026-01-01T01:00:00Z"}}`},
		{"member lists", struct {
			Tags []tagXML `xml:"Tags>member"`
		}{[]tagXML{{Key: "k", Value: "v"}}}, `{"tags":[{"key":"k","value":"v"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := json.Marshal(responseElements(tt.out))
			if string(got) != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}
