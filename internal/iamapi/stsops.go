package iamapi

import (
	"strconv"

	"github.com/coffer/coffer/internal/iam"
)

var stsOperations = map[string]operation{
	"GetCallerIdentity": (*Handler).getCallerIdentity,
	"AssumeRole":        (*Handler).assumeRole,
}

// getCallerIdentity needs no permission, as in AWS.
func (h *Handler) getCallerIdentity(c *call) (any, error) {
	return struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}{c.caller.ARN, c.caller.UserID, c.caller.AccountID}, nil
}

func (h *Handler) assumeRole(c *call) (any, error) {
	roleARN, err := required(c, "RoleArn")
	if err != nil {
		return nil, err
	}
	session, err := required(c, "RoleSessionName")
	if err != nil {
		return nil, err
	}
	in := iam.AssumeRoleInput{RoleARN: roleARN, SessionName: session, Policy: c.get("Policy"), Conditions: c.req.GlobalConditions()}
	if v := c.get("DurationSeconds"); v != "" {
		if in.DurationSeconds, err = strconv.Atoi(v); err != nil || in.DurationSeconds <= 0 {
			return nil, validation("1 validation error detected: Value '" + v + "' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
		}
	}
	for i := 1; ; i++ {
		arn := c.get("PolicyArns.member." + strconv.Itoa(i) + ".arn")
		if arn == "" {
			break
		}
		in.PolicyARNs = append(in.PolicyARNs, arn)
	}
	creds, err := h.svc.AssumeRole(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	type credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	type assumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	}
	return struct {
		Credentials     credentials     `xml:"Credentials"`
		AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	}{credentials{creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, isoTime(creds.Expiration)},
		assumedRoleUser{creds.AssumedRoleID, creds.AssumedRoleARN}}, nil
}
