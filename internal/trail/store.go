package trail

import (
	"context"
	"errors"
)

// Store keeps the trails. Backends: bolttrail (meta.db), pgtrail (PostgreSQL). Every
// backend passes the conformance suite in package trailtest.
type Store interface {
	// Create stores t, a new trail; ErrTrailExists when the account has one of that name,
	// ErrTooManyTrails when the account already has limit trails.
	Create(ctx context.Context, t Trail, limit int) error
	// Get returns the trail of account named name, or ErrTrailNotFound.
	Get(ctx context.Context, account, name string) (Trail, error)
	// List returns the trails of account ("" for every account), by account then name.
	List(ctx context.Context, account string) ([]Trail, error)
	// Update applies fn to the stored trail and stores the result, atomically; an error from
	// fn is returned and nothing is stored. ErrTrailNotFound when there is none. A store shared
	// by several nodes may call fn more than once (again after a concurrent update), each time
	// on the trail as then stored, so fn changes nothing but the trail it is given.
	Update(ctx context.Context, account, name string, fn func(*Trail) error) (Trail, error)
	// Delete removes the trail, or returns ErrTrailNotFound.
	Delete(ctx context.Context, account, name string) error
}

// Error classes of the trail service; the wire layer maps each to a CloudTrail exception.
var (
	ErrTrailNotFound         = errors.New("trail: not found")
	ErrTrailExists           = errors.New("trail: already exists")
	ErrTooManyTrails         = errors.New("trail: too many trails")
	ErrInvalidName           = errors.New("trail: invalid trail name")
	ErrInvalidARN            = errors.New("trail: invalid trail ARN")
	ErrBucketDoesNotExist    = errors.New("trail: S3 bucket does not exist")
	ErrInsufficientPolicy    = errors.New("trail: insufficient S3 bucket policy")
	ErrInvalidBucketName     = errors.New("trail: invalid S3 bucket name")
	ErrInvalidPrefix         = errors.New("trail: invalid S3 prefix")
	ErrInvalidEventSelectors = errors.New("trail: invalid event selectors")
	ErrInvalidParameter      = errors.New("trail: invalid parameter")
	ErrInvalidCombination    = errors.New("trail: invalid parameter combination")
	ErrUnsupported           = errors.New("trail: unsupported operation")
	ErrDamaged               = errors.New("trail: damaged record")
)

// Error is a classified failure with the message CloudTrail gives the client.
type Error struct {
	Class   error
	Message string
}

func (e *Error) Error() string { return e.Class.Error() + ": " + e.Message }

// Unwrap makes errors.Is see the class.
func (e *Error) Unwrap() error { return e.Class }

func errorf(class error, msg string) error { return &Error{Class: class, Message: msg} }
