package s3api

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/fuzzseed"
)

const fuzzBoundary = "XyZ"

func formBody(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + fuzzBoundary + "\r\n" + p + "\r\n")
	}
	b.WriteString("--" + fuzzBoundary + "--\r\n")
	return b.String()
}

func field(name, value string) string {
	return "Content-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value
}

func TestReadForm(t *testing.T) {
	file := "Content-Disposition: form-data; name=\"File\"; filename=\"dir/a b.txt\"\r\nContent-Type: text/plain\r\n\r\nDATA"
	cases := []struct {
		name     string
		body     string
		fields   map[string]string
		file     string // file contents, "" for no file
		filename string
		err      *apiError
	}{
		{name: "fields then file", body: formBody(field("Key", "k"), field("x-amz-meta-A", "V"), file, field("after", "ignored")),
			fields: map[string]string{"key": "k", "x-amz-meta-a": "V"}, file: "DATA", filename: "dir/a b.txt"},
		{name: "no file", body: formBody(field("key", "k")), fields: map[string]string{"key": "k"}},
		{name: "field twice in other case", body: formBody(field("key", "a"), field("KEY", "b"), file), err: &apiError{Code: "InvalidArgument"}},
		{name: "part without a name", body: formBody("Content-Disposition: form-data\r\n\r\nx"), err: errMalformedPOST},
		{name: "fields over 20 KB", body: formBody(field("a", strings.Repeat("a", 12<<10)), field("b", strings.Repeat("b", 12<<10)), file), err: errFormTooLarge},
		{name: "endless part headers", body: "--" + fuzzBoundary + "\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 1000)+"\r\n", 100), err: errFormTooLarge},
		{name: "truncated", body: formBody(field("key", "k"))[:20], err: errMalformedPOST},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readForm(strings.NewReader(tc.body), fuzzBoundary)
			if tc.err != nil {
				var ae *apiError
				if !errors.As(err, &ae) || ae.Code != tc.err.Code {
					t.Fatalf("err = %v, want %s", err, tc.err.Code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.fields) != len(tc.fields) {
				t.Errorf("fields %v, want %v", f.fields, tc.fields)
			}
			for k, v := range tc.fields {
				if f.fields[k] != v {
					t.Errorf("field %s = %q, want %q", k, f.fields[k], v)
				}
			}
			if tc.file == "" {
				if f.file != nil {
					t.Error("a file where there is none")
				}
				return
			}
			data, err := io.ReadAll(f.file)
			if err != nil || string(data) != tc.file || f.filename != tc.filename {
				t.Errorf("file %q named %q (%v)", data, f.filename, err)
			}
		})
	}
}

// FuzzReadForm: any body gives a form within the caps or a classified refusal, and the file
// part of an accepted form reads to its end.
func FuzzReadForm(f *testing.F) {
	fuzzseed.Require(f)
	f.Add([]byte(formBody(field("key", "k"), "Content-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\nbody")))
	f.Add([]byte(formBody(field("key", "k"))))
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := readForm(bytes.NewReader(body), fuzzBoundary)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || form != nil {
				t.Fatalf("unclassified failure %v", err)
			}
			return
		}
		total := 0
		for k, v := range form.fields {
			if k == "" || k != strings.ToLower(k) || k == "file" {
				t.Fatalf("field name %q", k)
			}
			total += len(k) + len(v)
		}
		if total > maxFormBytes {
			t.Fatalf("%d bytes of fields accepted", total)
		}
		if form.file != nil {
			if _, err := io.Copy(io.Discard, form.file); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Logf("file read: %v", err)
			}
		}
	})
}
