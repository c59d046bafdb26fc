// Package bloburl opens the blob store a --blob URL names, for cmd/coffer:
//
//	file:///mnt/shared                  a directory shared by every node (fsblob.NewShared)
//	s3://bucket/prefix?endpoint=https://s3.example:9000&region=eu-west-1&ca=/etc/coffer/ca.pem&path-style=true
//	                                    an S3-compatible store (s3blob.ParseURL)
//
// Credentials never appear in a URL: the S3 store takes them from the SDK's default chain
// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the shared credentials file and AWS_PROFILE).
// Only cmd/coffer names backends; internal/server receives the blob.Store.
package bloburl

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/coffer/coffer/internal/blob"
	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/blob/s3blob"
)

// Open opens the store raw names. log receives the S3 store's warnings (nil discards).
func Open(ctx context.Context, raw string, log *slog.Logger) (blob.Store, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("blob URL: %w", s3blob.ParseError(err))
	}
	switch u.Scheme {
	case "file":
		dir, err := FileDir(u)
		if err != nil {
			return nil, err
		}
		return fsblob.NewShared(dir)
	case "s3":
		c, err := s3blob.ParseURL(raw)
		if err != nil {
			return nil, err
		}
		c.Logger = log
		return s3blob.New(ctx, c)
	default:
		return nil, fmt.Errorf("blob URL %q: scheme %q, want file or s3", u.Redacted(), u.Scheme)
	}
}

// FileDir is the directory of a file:///path URL: an absolute path on this host, without
// empty, . or .. segments.
func FileDir(u *url.URL) (string, error) {
	switch {
	case u.Scheme != "file":
		return "", fmt.Errorf("blob URL: scheme %q, want file", u.Scheme)
	case u.Host != "" && u.Host != "localhost":
		return "", fmt.Errorf("blob URL: file URL names host %q; mount the share and give its local path (file:///mnt/shared)", u.Host)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("blob URL %q: a file URL is file:///absolute/path, without options", u.Redacted())
	case !strings.HasPrefix(u.Path, "/"):
		return "", fmt.Errorf("blob URL: file URL path %q is not absolute", u.Path)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(u.Path[1:], "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("blob URL: file URL path %q has an empty, . or .. segment", u.Path)
		}
	}
	return filepath.FromSlash(strings.TrimSuffix(u.Path, "/")), nil
}
