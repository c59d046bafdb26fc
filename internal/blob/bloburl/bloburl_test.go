package bloburl_test

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/blob/bloburl"
	"github.com/coffer/coffer/internal/blob/fsblob"
)

func TestFileDir(t *testing.T) {
	tests := []struct{ url, want, wantErr string }{
		{url: "file:///mnt/shared", want: "/mnt/shared"},
		{url: "file:///mnt/shared/", want: "/mnt/shared"},
		{url: "file://localhost/mnt/shared", want: "/mnt/shared"},
		{url: "file://nfs1/mnt/shared", wantErr: "names host"},
		{url: "file:relative/dir", wantErr: "without options"},
		{url: "file:///mnt/../etc", wantErr: "segment"},
		{url: "file:///mnt/./x", wantErr: "segment"},
		{url: "file:///mnt//x", wantErr: "segment"},
		{url: "file:///", wantErr: "segment"},
		{url: "file:///mnt/shared?sync=no", wantErr: "without options"},
		{url: "file://user:pw@/mnt", wantErr: "without options"},
		{url: "s3://bucket", wantErr: "want file"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			got, err := bloburl.FileDir(u)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("FileDir = %q, %v; want an error about %q", got, err, tc.wantErr)
			case tc.wantErr == "" && (err != nil || got != tc.want):
				t.Fatalf("FileDir = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := bloburl.Open(context.Background(), "file://"+filepath.ToSlash(dir), nil)
	if err != nil {
		t.Fatalf("Open(file): %v", err)
	}
	if _, ok := s.(*fsblob.Store); !ok {
		t.Fatalf("Open(file) = %T, want *fsblob.Store", s)
	}
	if _, err := s.Put(context.Background(), "x", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	refused := []struct{ name, url, wantErr string }{
		{"unknown-scheme", "gs://bucket", "want file or s3"},
		{"s3-credentials", "s3://AKIA:secret@bucket", "credentials"},
		{"file-relative", "file:data", "without options"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := bloburl.Open(context.Background(), tc.url, nil); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Open(%q) = %v, want an error about %q", tc.url, err, tc.wantErr)
			}
		})
	}
}

// TestOpenErrorsHideCredentials: credentials never belong in a --blob URL, and an error about
// a URL that holds some anyway must not show them (errors reach logs).
func TestOpenErrorsHideCredentials(t *testing.T) {
	for _, tc := range []struct{ name, url string }{
		{"unknown scheme", "gs://AKIA:s3cret@bucket"},
		{"unparsable", "s3://AKIA:s3cret@bucket/%zz"},
		{"s3 credentials", "s3://AKIA:s3cret@bucket"},
		{"endpoint credentials", "s3://bucket?endpoint=https://AKIA:s3cret@s3.example"},
		{"file credentials", "file://user:s3cret@/mnt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bloburl.Open(context.Background(), tc.url, nil)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}
