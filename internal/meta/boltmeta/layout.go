package boltmeta

// UploadKey is the name of an upload's nested bucket under a bucket's "u" (see uploadKey), for
// tools that copy the file's records as they are (coffer admin migrate).
func UploadKey(key, id string) []byte { return uploadKey(key, id) }

// SplitUploadKey reverses UploadKey; ok is false for a name UploadKey does not make.
func SplitUploadKey(b []byte) (key, id string, ok bool) { return splitUploadKey(b) }
