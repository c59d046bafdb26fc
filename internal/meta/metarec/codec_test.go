package metarec

import (
	"reflect"
	"testing"

	"github.com/coffer/coffer/internal/meta"
)

// TestCodecOldRecords decodes records as releases before the byte-valued metadata fields and
// the upload id wrote them: they must read exactly as they did.
func TestCodecOldRecords(t *testing.T) {
	tests := []struct {
		name string
		rec  string
		want meta.Object
	}{
		{"metadata", `{"s":3,"e":"x","h":{"Content-Type":"text/plain"},"u":{"color":"blue"}}`,
			meta.Object{Bucket: "b", Key: "k", Size: 3, ETag: "x",
				Headers: map[string]string{"Content-Type": "text/plain"}, UserMeta: map[string]string{"color": "blue"}}},
		{"multipart", `{"s":10,"e":"y-2","pc":2,"p":[{"n":1,"b":"b1","s":5,"e":"e1"},{"n":2,"b":"b2","s":5,"e":"e2"}]}`,
			meta.Object{Bucket: "b", Key: "k", Size: 10, ETag: "y-2", PartsCount: 2,
				Parts: []meta.Part{{Number: 1, Blob: "b1", Size: 5, ETag: "e1"}, {Number: 2, Blob: "b2", Size: 5, ETag: "e2"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeObject("b", "k", append([]byte{V1}, tc.rec...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("decoded\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}

// TestCodecHeaderBytes checks that values which are not UTF-8 survive both record kinds.
func TestCodecHeaderBytes(t *testing.T) {
	headers := map[string]string{"Content-Disposition": "inline; filename=\"\xe9t\xe9\"", "Content-Type": "text/plain"}
	user := map[string]string{"latin1": "caf\xe9", "utf8": "caf\u00e9", "bytes": "\xff\x00\x80"}
	t.Run("object", func(t *testing.T) {
		rec, err := EncodeObject(meta.Object{Headers: headers, UserMeta: user, UploadID: "up"})
		if err != nil {
			t.Fatal(err)
		}
		o, err := DecodeObject("b", "k", rec)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(o.Headers, headers) || !reflect.DeepEqual(o.UserMeta, user) || o.UploadID != "up" {
			t.Fatalf("decoded headers %q, metadata %q, upload id %q", o.Headers, o.UserMeta, o.UploadID)
		}
	})
	t.Run("upload", func(t *testing.T) {
		rec, err := EncodeUpload(meta.Upload{Headers: headers, UserMeta: user})
		if err != nil {
			t.Fatal(err)
		}
		u, err := DecodeUpload("b", "k", "id", rec)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(u.Headers, headers) || !reflect.DeepEqual(u.UserMeta, user) {
			t.Fatalf("decoded headers %q, metadata %q", u.Headers, u.UserMeta)
		}
	})
}

// TestCodecEncryptionRecord checks that an encryption record of an unknown version is refused
// rather than misread, and that records without one read as plaintext.
func TestCodecEncryptionRecord(t *testing.T) {
	tests := []struct {
		name    string
		rec     string
		wantErr bool
		plain   bool
	}{
		{"before encryption", `{"s":1,"e":"x"}`, false, true},
		{"version 1", `{"s":1,"e":"x","x":{"v":1,"a":"AES256","k":"AQID"}}`, false, false},
		// "kp" was reserved for an SSE-C key proof that no writer ever stored (the proof is in
		// the sealed key); a record carrying it still reads.
		{"version 1 with kp", `{"s":1,"e":"x","x":{"v":1,"a":"SSE-C","k":"AQID","kp":"BQ=="}}`, false, false},
		{"unknown version", `{"s":1,"e":"x","x":{"v":2,"a":"AES256","k":"AQID"}}`, true, false},
		{"no algorithm", `{"s":1,"e":"x","x":{"v":1,"k":"AQID"}}`, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := DecodeObject("b", "k", append([]byte{V1}, tc.rec...))
			if (err != nil) != tc.wantErr {
				t.Fatalf("DecodeObject error = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (o.Encryption == nil) != tc.plain {
				t.Fatalf("Encryption = %+v", o.Encryption)
			}
		})
	}
}
