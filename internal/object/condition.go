package object

import (
	"context"
	"errors"
	"strings"

	"github.com/coffer/coffer/internal/meta"
)

// ErrPreconditionFailed means a conditional write found the key in the wrong state.
var ErrPreconditionFailed = errors.New("object: precondition failed")

// WriteCondition is S3's conditional write: with IfNoneMatch "*" the write happens only if no
// object has the key, with IfMatch only if the current object's ETag is in its list. The check
// is made atomically with the write, so of racing "create if absent" writes exactly one wins.
type WriteCondition struct {
	IfMatch     string
	IfNoneMatch string // only "*" is meaningful for writes
}

func (w WriteCondition) none() bool { return w.IfMatch == "" && w.IfNoneMatch == "" }

// check judges the current object (nil if absent).
func (w WriteCondition) check(cur *meta.Object) error {
	if w.IfNoneMatch != "" && cur != nil {
		return ErrPreconditionFailed
	}
	if w.IfMatch != "" {
		if cur == nil {
			return meta.ErrNoSuchKey
		}
		if !ETagMatches(w.IfMatch, cur.ETag) {
			return ErrPreconditionFailed
		}
	}
	return nil
}

// conditions turns w into the metadata store's transactional guard.
func (w WriteCondition) conditions() []meta.Condition {
	if w.none() {
		return nil
	}
	return []meta.Condition{w.check}
}

// precheck fails a conditional write early, before its body is stored; the decisive check is
// the one made with the write.
func (s *Service) precheck(ctx context.Context, bucket, key string, w WriteCondition) error {
	if w.none() {
		return nil
	}
	cur, err := s.meta.GetObject(ctx, bucket, key)
	switch {
	case errors.Is(err, meta.ErrNoSuchKey):
		return w.check(nil)
	case err != nil:
		return err
	}
	return w.check(&cur)
}

// ETagMatches reports whether etag is in an If-Match / If-None-Match list ("*" matches any).
func ETagMatches(list, etag string) bool {
	for _, c := range strings.Split(list, ",") {
		c = strings.TrimPrefix(strings.TrimSpace(c), "W/")
		if c == "*" || strings.Trim(c, `"`) == etag {
			return true
		}
	}
	return false
}
