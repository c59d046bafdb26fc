package metarec

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/coffer/coffer/internal/meta"
)

// IntentV2 is the version byte of a freed intent's record.
//
// A write intent is stored as it always was: V1 and the JSON intentRec without a kind, so a
// binary from before freed intents still reads every write intent. A freed intent is V2 and
// intentRec with its kind, which such a binary refuses (ErrBadRecord: its sweep stops and says
// so) instead of misreading it as a write intent and deleting the blob at once, under a read
// of another node. The blob name is not in the record: it is the key the record is kept under.
const IntentV2 = 2

// intentFreed is the stored name of meta.IntentFreed in a V2 record.
const intentFreed = "freed"

type intentRec struct {
	Bucket   string `json:"b"`
	Key      string `json:"k"`
	UploadID string `json:"u,omitempty"`
	Created  int64  `json:"c"`           // Unix nanoseconds, exactly as given
	Kind     string `json:"t,omitempty"` // V2 only
}

// EncodeIntent encodes an intent's record.
func EncodeIntent(in meta.Intent) ([]byte, error) {
	r := intentRec{Bucket: in.Bucket, Key: in.Key, UploadID: in.UploadID, Created: in.Created.UnixNano()}
	version := byte(V1)
	switch in.Kind {
	case meta.IntentWrite:
	case meta.IntentFreed:
		version, r.Kind = IntentV2, intentFreed
	default:
		return nil, fmt.Errorf("metarec: encode intent of kind %d", in.Kind)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("metarec: encode intent: %w", err)
	}
	return append([]byte{version}, b...), nil
}

// DecodeIntent decodes the record of blob's intent.
func DecodeIntent(blob string, v []byte) (meta.Intent, error) {
	if len(v) < 1 || (v[0] != V1 && v[0] != IntentV2) {
		return meta.Intent{}, ErrBadRecord
	}
	var r intentRec
	if err := json.Unmarshal(v[1:], &r); err != nil {
		return meta.Intent{}, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	in := meta.Intent{Blob: blob, Bucket: r.Bucket, Key: r.Key, UploadID: r.UploadID, Created: time.Unix(0, r.Created).UTC()}
	switch {
	case v[0] == V1 && r.Kind == "":
		in.Kind = meta.IntentWrite
	case v[0] == IntentV2 && r.Kind == intentFreed:
		in.Kind = meta.IntentFreed
	default:
		return meta.Intent{}, fmt.Errorf("%w: intent of version %d and kind %q", ErrBadRecord, v[0], r.Kind)
	}
	return in, nil
}
