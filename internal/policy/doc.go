// Package policy is Coffer's one evaluator of the IAM policy language: identity policies (user,
// role, session), resource policies (bucket and key policies) and role trust policies are
// parsed and validated once by Parse into a compiled Policy, evaluated per request by Evaluate,
// and combined for one request by Decide as AWS's "Policy evaluation logic" documents. It
// imports nothing of Coffer's: the wire layers translate their request identity into a Request
// and map *Error to their own error code.
//
// # Grammar
//
// A document is an object of Version ("2012-10-17" or "2008-10-17", or absent), Id and
// Statement (one object or a list). A statement has Sid, Effect ("Allow" or "Deny"), Principal
// or NotPrincipal, Action or NotAction, Resource or NotResource, and Condition. Values are a
// string or a list of strings wherever AWS allows both. Anything else is refused whole with an
// *Error: unknown or duplicate members, a missing Effect, Action, Resource (except in trust
// policies, which may not have one) or Principal (resource and trust policies), a Principal in
// an identity policy, an action not of the form "service:Action", a resource that is neither
// "*" nor an ARN, an unknown condition operator (names are case-sensitive), a malformed
// condition value for its operator, a malformed policy variable.
//
// Principals: "*", {"AWS": "*"}, 12-digit account ids, and ARNs of an account's root, an IAM
// user or role (with path), an assumed-role session or a federated user; {"Service": name}.
// Wildcards inside an ARN are refused, as AWS refuses them. {"Federated": ...} and
// {"CanonicalUser": ...} are accepted so that documents written for AWS parse, but no Coffer
// principal is one, so they never match (and S3 counts a Federated grant as public).
// NotPrincipal is accepted only with Deny (AWS no longer supports it with Allow) and only in
// resource policies; it excludes a principal only when its account and its own ARN (for a role
// session, its role's ARN) are both listed, as AWS checks each level.
//
// # Matching
//
// Actions are matched case-insensitively, resources case-sensitively, both with "*" (any run
// of characters) and "?" (one character). A principal named by its account ("111122223333" or
// its root ARN) matches every principal of that account, but as AllowAccount, a delegation to
// that account's identity policies, unless it is the root itself; a role ARN matches the role's
// sessions; "*" matches everyone, anonymous included.
//
// # Conditions
//
// Every operator AWS documents (String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress and
// NotIpAddress, Arn*, Null), each with IfExists (except Null), each with the ForAllValues: and
// ForAnyValue: set qualifiers. Keys are case-insensitive (Request.Context holds them
// lower-cased), values case-sensitive except for the IgnoreCase operators. Several keys in a
// block and several blocks must all hold; several values of one key are ORed. A missing key
// fails a condition, except that negated operators (StringNotEquals, NotIpAddress, ...) and
// IfExists hold, ForAllValues holds on no value and ForAnyValue fails.
//
// In version 2012-10-17, Resource, NotResource and the values of String and Arn conditions may
// hold policy variables, ${aws:username} and any other condition key, with a default
// (${aws:username, 'anonymous'}), and the escapes ${*}, ${?} and ${$}. A variable whose key
// has no single value and no default makes its statement not apply, whatever the operator. A
// variable's value is inserted literally: a "*" in a user name is no wildcard.
//
// # Speed
//
// Parse compiles everything a request needs: wildcard patterns, numbers, dates, address
// blocks, decoded binary values, lower-cased keys. Evaluate does no parsing and no allocation.
package policy
