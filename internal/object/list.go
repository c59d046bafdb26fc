package object

import (
	"context"
	"strings"

	"github.com/coffer/coffer/internal/meta"
)

// ListInput selects a page of a bucket listing.
type ListInput struct {
	Prefix    string
	Delimiter string
	After     string // list entries strictly after this key or common prefix
	MaxKeys   int    // 0 returns an empty, untruncated page
}

// ListPage is one page of a listing: keys and common prefixes in one ascending order.
type ListPage struct {
	Objects        []Object
	CommonPrefixes []string
	Truncated      bool
	// Last is the last key or common prefix returned: the marker of the next page.
	Last string
}

// pageBatch is the most metadata records one store call fetches while filling a page;
// prefixBatch is where fetching starts again after a common prefix was skipped.
const (
	pageBatch   = 1000
	prefixBatch = 16
)

// maxByte sorts after every byte of valid UTF-8, so prefix+maxByte skips all keys under prefix.
const maxByte = "\xff"

// CommonPrefix returns the common prefix key rolls up into in a listing under prefix with
// delimiter: the key up to and including the first delimiter after the prefix, if any.
func CommonPrefix(key, prefix, delim string) (string, bool) {
	if delim == "" || !strings.HasPrefix(key, prefix) {
		return "", false
	}
	j := strings.Index(key[len(prefix):], delim)
	if j < 0 {
		return "", false
	}
	return key[:len(prefix)+j+len(delim)], true
}

// List returns one page of the bucket's keys, grouping keys that share a prefix up to the
// delimiter into common prefixes, each counting as one entry against MaxKeys.
func (s *Service) List(ctx context.Context, bucket string, in ListInput) (ListPage, error) {
	var page ListPage
	if _, err := s.bucket(ctx, bucket); err != nil {
		return page, err
	}
	if in.MaxKeys <= 0 {
		return page, nil
	}
	after := in.After // the store seeks to the later of this and the prefix
	count := 0
	// Fetch no more than the page can still use, and after skipping a common prefix start
	// small again: the next key may well begin another prefix, and every record fetched is
	// decoded.
	need := func() int { return min(pageBatch, in.MaxKeys-count+1) }
	limit := need()
	if in.Delimiter != "" {
		limit = min(limit, prefixBatch)
	}
	for {
		batch, err := s.meta.ListObjects(ctx, bucket, meta.ListOptions{Prefix: in.Prefix, After: after, Limit: limit})
		if err != nil {
			return page, err
		}
		if len(batch) == 0 {
			return page, nil
		}
		skipped := false
		for i, o := range batch {
			if o.Key <= in.After {
				after = o.Key
				continue
			}
			entry := o.Key
			cp, isPrefix := CommonPrefix(o.Key, in.Prefix, in.Delimiter)
			if isPrefix {
				entry = cp
			}
			if isPrefix && entry <= in.After {
				// The marker is this common prefix itself: skip everything under it.
				after = entry + maxByte
				skipped = true
				break
			}
			if count == in.MaxKeys {
				page.Truncated = true
				return page, nil
			}
			count++
			page.Last = entry
			if isPrefix {
				page.CommonPrefixes = append(page.CommonPrefixes, entry)
				after = entry + maxByte
				skipped = true
				break // re-seek past the whole common prefix
			}
			page.Objects = append(page.Objects, objectOf(o))
			after = o.Key
			if i == len(batch)-1 && len(batch) < limit {
				return page, nil
			}
		}
		if skipped {
			limit = min(prefixBatch, need())
		} else {
			limit = min(2*limit, need())
		}
	}
}
