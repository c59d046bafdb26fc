package iam

import (
	"context"
	"errors"
	"time"
)

// Error classes of the store and the service. Backends wrap them with %w; the IAM wire layer
// keeps the table from class to IAM error code.
var (
	ErrNoSuchEntity   = errors.New("iam: no such entity")
	ErrEntityExists   = errors.New("iam: entity already exists")
	ErrDeleteConflict = errors.New("iam: entity still has subordinate entities")
	ErrLimitExceeded  = errors.New("iam: limit exceeded")
	ErrValidation     = errors.New("iam: invalid input")
	ErrMalformed      = errors.New("iam: malformed policy document")
	// ErrInvalidInput is IAM's InvalidInput: a well-formed request that breaks a rule of the
	// operation (a duplicate or reserved tag key).
	ErrInvalidInput = errors.New("iam: invalid input")
	// ErrNotSupported marks a feature of IAM that Coffer does not have (IAM's
	// UnsupportedOperation): refused rather than silently ignored.
	ErrNotSupported = errors.New("iam: not supported")
	// ErrDamaged means a stored record could not be read.
	ErrDamaged = errors.New("iam: damaged record")
)

// Error is a classified failure with the message IAM gives the client.
type Error struct {
	Class   error
	Message string
}

func (e *Error) Error() string { return e.Class.Error() + ": " + e.Message }
func (e *Error) Unwrap() error { return e.Class }

func errorf(class error, msg string) error { return &Error{Class: class, Message: msg} }

// Access key states.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// Kind tells which kind of identity an Entity names.
type Kind string

// Identities that hold policies.
const (
	KindUser Kind = "user"
	KindRole Kind = "role"
)

// Entity names a user or a role of an account: the holder of inline and attached policies.
type Entity struct {
	Kind    Kind
	Account string
	Name    string
}

// User is an IAM user.
type User struct {
	Account string
	Name    string
	Path    string // "/" or "/a/b/"
	ID      string // AIDA...
	Created time.Time
	Tags    []Tag `json:",omitempty"`
}

// ARN returns arn:aws:iam::<account>:user<path><name>.
func (u User) ARN() string { return "arn:aws:iam::" + u.Account + ":user" + u.Path + u.Name }

// AccessKey is a long-term access key of a user or (UserName "") of the account root.
type AccessKey struct {
	ID       string // AKIA...
	Account  string
	UserName string // "" for the account's root user
	Status   string // StatusActive or StatusInactive
	Created  time.Time
	// SealedSecret is the secret access key sealed by the service's Sealer; the plaintext is
	// never stored.
	SealedSecret []byte
}

// Role is an IAM role.
type Role struct {
	Account     string
	Name        string
	Path        string
	ID          string // AROA...
	TrustPolicy string // the assume-role policy document, as given
	Description string
	// MaxSessionDuration is the longest session AssumeRole may grant, in seconds (3600..43200).
	MaxSessionDuration int
	Created            time.Time
	Tags               []Tag `json:",omitempty"`
}

// ARN returns arn:aws:iam::<account>:role<path><name>.
func (r Role) ARN() string { return "arn:aws:iam::" + r.Account + ":role" + r.Path + r.Name }

// InlinePolicy is a policy embedded in a user or role.
type InlinePolicy struct {
	Name     string
	Document string
}

// ManagedPolicy is a customer managed policy with its versions.
type ManagedPolicy struct {
	Account        string
	Name           string
	Path           string
	ID             string // ANPA...
	Description    string
	DefaultVersion string // "v1", "v2", ...
	Versions       []PolicyVersion
	NextVersion    int // the number of the next version made
	Created        time.Time
	Updated        time.Time
	// Attachments is the number of users and roles it is attached to; filled on read.
	Attachments int
	Tags        []Tag `json:",omitempty"`
}

// ARN returns arn:aws:iam::<account>:policy<path><name>.
func (p ManagedPolicy) ARN() string {
	return "arn:aws:iam::" + p.Account + ":policy" + p.Path + p.Name
}

// Version returns the version with id, or false.
func (p ManagedPolicy) Version(id string) (PolicyVersion, bool) {
	for _, v := range p.Versions {
		if v.ID == id {
			return v, true
		}
	}
	return PolicyVersion{}, false
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID       string
	Document string
	Created  time.Time
}

// Session is an STS role session: temporary credentials. Only a hash of its session token is
// stored, and its secret key only sealed.
type Session struct {
	AccessKeyID string // ASIA...
	Account     string // the role's account
	RoleName    string
	// RoleID is the unique id of the role assumed: a session ends with its role, and a new
	// role of the same name (another id) does not revive it.
	RoleID       string
	SessionName  string
	TokenHash    []byte // SHA-256 of the session token
	SealedSecret []byte
	// Policies are the session policies (the Policy parameter and the documents of PolicyArns)
	// that bound the session's permissions.
	Policies []string
	// SourceIdentity is the caller that assumed the role (its ARN), for the record.
	SourceIdentity string
	Created        time.Time
	Expires        time.Time
}

// Store keeps accounts, users, access keys, roles, policies and role sessions. Each method is
// one transaction: it happens whole or not at all, and once it returns nil the change is
// durable. Names of users, roles and policies are unique per account ignoring case, as in IAM.
// Lists are in ascending order of name (of id for access keys). Every backend must pass the
// conformance suite in package iamtest. A store shared by several nodes may call the function
// of UpdateUser, UpdateRole and UpdatePolicy more than once (again after a concurrent change),
// each time on the record as then stored, so the function changes nothing but that record
// and what it assigns.
type Store interface {
	// CreateAccount stores a new account (ErrEntityExists).
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount returns an account (ErrNoSuchEntity).
	GetAccount(ctx context.Context, id string) (Account, error)
	// ListAccounts returns every account.
	ListAccounts(ctx context.Context) ([]Account, error)

	// CreateUser stores a new user (ErrEntityExists); its account must exist (ErrNoSuchEntity).
	CreateUser(ctx context.Context, u User) error
	// GetUser returns a user (ErrNoSuchEntity).
	GetUser(ctx context.Context, account, name string) (User, error)
	// ListUsers returns the users of an account.
	ListUsers(ctx context.Context, account string) ([]User, error)
	// UpdateUser reads a user, applies fn and stores the result atomically; fn may change
	// neither the name nor the account (ErrValidation). If fn fails nothing is written and its
	// error is returned.
	UpdateUser(ctx context.Context, account, name string, fn func(*User) error) (User, error)
	// DeleteUser removes a user (ErrNoSuchEntity); ErrDeleteConflict while it has access keys,
	// inline policies or attached policies.
	DeleteUser(ctx context.Context, account, name string) error

	// CreateAccessKey stores a new key of its user (ErrNoSuchEntity if the user does not
	// exist) or account root; ErrLimitExceeded if the owner already has max keys.
	CreateAccessKey(ctx context.Context, k AccessKey, max int) error
	// GetAccessKey returns a key by id (ErrNoSuchEntity).
	GetAccessKey(ctx context.Context, id string) (AccessKey, error)
	// ListAccessKeys returns the keys of a user ("" for the account root).
	ListAccessKeys(ctx context.Context, account, user string) ([]AccessKey, error)
	// SetAccessKeyStatus changes the status of a key of that user (ErrNoSuchEntity).
	SetAccessKeyStatus(ctx context.Context, account, user, id, status string) error
	// DeleteAccessKey removes a key of that user (ErrNoSuchEntity).
	DeleteAccessKey(ctx context.Context, account, user, id string) error

	// CreateRole stores a new role (ErrEntityExists; ErrNoSuchEntity without its account).
	CreateRole(ctx context.Context, r Role) error
	// GetRole returns a role (ErrNoSuchEntity).
	GetRole(ctx context.Context, account, name string) (Role, error)
	// ListRoles returns the roles of an account.
	ListRoles(ctx context.Context, account string) ([]Role, error)
	// UpdateRole reads a role, applies fn and stores the result atomically, as UpdateUser.
	UpdateRole(ctx context.Context, account, name string, fn func(*Role) error) (Role, error)
	// DeleteRole removes a role (ErrNoSuchEntity); ErrDeleteConflict while it has inline or
	// attached policies.
	DeleteRole(ctx context.Context, account, name string) error

	// PutInlinePolicy creates or replaces an inline policy of a user or role (ErrNoSuchEntity
	// if the entity does not exist).
	PutInlinePolicy(ctx context.Context, e Entity, p InlinePolicy) error
	// GetInlinePolicy returns one inline policy (ErrNoSuchEntity).
	GetInlinePolicy(ctx context.Context, e Entity, name string) (InlinePolicy, error)
	// ListInlinePolicies returns the inline policies of an entity (ErrNoSuchEntity if the
	// entity does not exist).
	ListInlinePolicies(ctx context.Context, e Entity) ([]InlinePolicy, error)
	// DeleteInlinePolicy removes one inline policy (ErrNoSuchEntity).
	DeleteInlinePolicy(ctx context.Context, e Entity, name string) error

	// CreatePolicy stores a new managed policy (ErrEntityExists; ErrNoSuchEntity without its
	// account).
	CreatePolicy(ctx context.Context, p ManagedPolicy) error
	// GetPolicy returns a managed policy by account and name (ErrNoSuchEntity), with
	// Attachments counted.
	GetPolicy(ctx context.Context, account, name string) (ManagedPolicy, error)
	// ListPolicies returns the managed policies of an account, with Attachments counted.
	ListPolicies(ctx context.Context, account string) ([]ManagedPolicy, error)
	// UpdatePolicy reads a managed policy, applies fn and stores the result atomically; if fn
	// fails nothing is written and its error is returned.
	UpdatePolicy(ctx context.Context, account, name string, fn func(*ManagedPolicy) error) (ManagedPolicy, error)
	// DeletePolicy removes a managed policy (ErrNoSuchEntity); ErrDeleteConflict while it is
	// attached to a user or role.
	DeletePolicy(ctx context.Context, account, name string) error
	// AttachPolicy attaches a managed policy of the entity's account to the entity
	// (ErrNoSuchEntity if either is missing); attaching twice is not an error.
	AttachPolicy(ctx context.Context, e Entity, policyName string) error
	// DetachPolicy detaches it (ErrNoSuchEntity if it is not attached).
	DetachPolicy(ctx context.Context, e Entity, policyName string) error
	// ListPolicyEntities returns the users and roles a managed policy is attached to, users
	// first, each in order of name, with the names as stored (ErrNoSuchEntity without the
	// policy).
	ListPolicyEntities(ctx context.Context, account, policyName string) ([]Entity, error)
	// ListAttachedPolicies returns the managed policies attached to an entity
	// (ErrNoSuchEntity if the entity does not exist).
	ListAttachedPolicies(ctx context.Context, e Entity) ([]ManagedPolicy, error)

	// PutSession stores a new role session (ErrEntityExists if its access key id is taken).
	PutSession(ctx context.Context, s Session) error
	// GetSession returns a session by access key id (ErrNoSuchEntity).
	GetSession(ctx context.Context, accessKeyID string) (Session, error)
	// DeleteExpiredSessions removes the sessions that expired before now and returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}
