package audit

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// The journal holds each record as encoding/json's json.Marshal writes it, and SPEC.md's
// vectors fix those bytes. Every request writes a record, so the record is encoded here by
// appending, without reflection, to the same bytes: the fields in Event's order under the
// same omitempty rules, strings escaped as encoding/json escapes them (HTML characters,
// U+2028 and U+2029, invalid UTF-8), map keys sorted. Map values of the kinds records hold
// (strings, booleans, JSON taken from a request, nested maps and lists) are appended too;
// any other value goes through json.Marshal, so it is always the bytes json.Marshal writes.
// encode_test.go compares the two on a corpus of records.

// MarshalEvent returns the JSON of a record as the journal keeps it: the bytes json.Marshal(e)
// returns, made faster.
func MarshalEvent(e *Event) ([]byte, error) {
	return appendEvent(make([]byte, 0, 1536), e)
}

func appendEvent(b []byte, e *Event) ([]byte, error) {
	var err error
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, e.EventVersion)
	b = append(b, `,"userIdentity":`...)
	b = appendIdentity(b, &e.UserIdentity)
	b = appendField(b, "eventTime", e.EventTime)
	b = appendField(b, "eventSource", e.EventSource)
	b = appendField(b, "eventName", e.EventName)
	b = appendField(b, "awsRegion", e.AWSRegion)
	b = appendField(b, "sourceIPAddress", e.SourceIPAddress)
	b = appendField(b, "userAgent", e.UserAgent)
	b = appendOmitEmpty(b, "errorCode", e.ErrorCode)
	b = appendOmitEmpty(b, "errorMessage", e.ErrorMessage)
	b = append(b, `,"requestParameters":`...)
	if b, err = appendMap(b, e.RequestParameters); err != nil {
		return nil, err
	}
	b = append(b, `,"responseElements":`...)
	if b, err = appendMap(b, e.ResponseElements); err != nil {
		return nil, err
	}
	if len(e.AdditionalEventData) > 0 {
		b = append(b, `,"additionalEventData":`...)
		if b, err = appendMap(b, e.AdditionalEventData); err != nil {
			return nil, err
		}
	}
	b = appendField(b, "requestID", e.RequestID)
	b = appendField(b, "eventID", e.EventID)
	b = appendBool(append(b, `,"readOnly":`...), e.ReadOnly)
	if len(e.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i, r := range e.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			if r.AccountID != "" {
				b = appendString(append(b, `"accountId":`...), r.AccountID)
				b = append(b, ',')
			}
			b = appendString(append(b, `"type":`...), r.Type)
			b = appendField(b, "ARN", r.ARN)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendField(b, "eventType", e.EventType)
	b = appendBool(append(b, `,"managementEvent":`...), e.ManagementEvent)
	b = appendField(b, "recipientAccountId", e.RecipientAccountID)
	b = appendOmitEmpty(b, "sharedEventID", e.SharedEventID)
	if len(e.ServiceEventDetails) > 0 {
		b = append(b, `,"serviceEventDetails":`...)
		if b, err = appendMap(b, e.ServiceEventDetails); err != nil {
			return nil, err
		}
	}
	b = appendField(b, "eventCategory", e.EventCategory)
	if t := e.TLSDetails; t != nil {
		b = appendString(append(b, `,"tlsDetails":{"tlsVersion":`...), t.TLSVersion)
		b = appendField(b, "cipherSuite", t.CipherSuite)
		b = appendField(b, "clientProvidedHostHeader", t.ClientProvidedHostHeader)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendIdentity appends a UserIdentity, whose members are all omitempty but for the
// session's attributes.
func appendIdentity(b []byte, u *UserIdentity) []byte {
	start := len(b)
	b = append(b, '{')
	b = appendOmitEmpty(b, "type", u.Type)
	b = appendOmitEmpty(b, "principalId", u.PrincipalID)
	b = appendOmitEmpty(b, "arn", u.ARN)
	b = appendOmitEmpty(b, "accountId", u.AccountID)
	b = appendOmitEmpty(b, "accessKeyId", u.AccessKeyID)
	b = appendOmitEmpty(b, "userName", u.UserName)
	if s := u.SessionContext; s != nil {
		b = append(b, `,"sessionContext":{`...)
		if i := s.SessionIssuer; i != nil {
			b = appendString(append(b, `"sessionIssuer":{"type":`...), i.Type)
			b = appendField(b, "principalId", i.PrincipalID)
			b = appendField(b, "arn", i.ARN)
			b = appendField(b, "accountId", i.AccountID)
			b = appendField(b, "userName", i.UserName)
			b = append(b, `},`...)
		}
		b = append(b, `"attributes":{`...)
		if s.Attributes.CreationDate != "" {
			b = appendString(append(b, `"creationDate":`...), s.Attributes.CreationDate)
			b = append(b, ',')
		}
		b = appendString(append(b, `"mfaAuthenticated":`...), s.Attributes.MFAAuthenticated)
		b = append(b, `}}`...)
	}
	b = appendOmitEmpty(b, "invokedBy", u.InvokedBy)
	if len(b) > start+1 {
		b[start+1] = '{' // every member above starts with a comma: the first one's becomes the brace
		b = b[:start+copy(b[start:], b[start+1:])]
	}
	return append(b, '}')
}

// appendField appends ,"name":value; name needs no escaping.
func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendOmitEmpty is appendField for an omitempty member: nothing when value is empty.
func appendOmitEmpty(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	return appendField(b, name, value)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendMap appends m as json.Marshal does: null when nil, members sorted by name.
func appendMap(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		if b, err = appendValue(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendValue appends one value of a record's maps.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return appendBool(b, x), nil
	case json.RawMessage:
		if x != nil && plainJSON(x) && json.Valid(x) {
			return append(b, x...), nil
		}
	case map[string]any:
		return appendMap(b, x)
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// plainJSON reports whether raw JSON is written as json.Marshal writes it, compact and
// escaped (json.Marshal compacts a json.RawMessage and escapes <, >, & and U+2028/U+2029 in
// it): it has no white space, none of those characters, and no byte of U+2028 or U+2029's
// lead (0xE2) either.
func plainJSON(raw []byte) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r', '<', '>', '&', 0xE2:
			return false
		}
	}
	return true
}

// appendString appends s as a JSON string exactly as json.Marshal escapes it: ", \ and the
// control characters escaped (\b, \f, \n, \r, \t by name, the others as \u00XX), <, > and &
// as \u003c, \u003e, \u0026, invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028, \u2029.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
