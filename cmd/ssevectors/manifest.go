package main

// The manifest shape. internal/sse's tests declare their own copy of these types on purpose: the
// JSON file is the contract, not shared Go code.

type manifest struct {
	Comment   string            `json:"comment"`
	Plaintext string            `json:"plaintext"`
	Keys      map[string]string `json:"keys"`
	Streams   []streamVector    `json:"streams"`
	Multipart []multipartVector `json:"multipart"`
	Tampered  []tamperVector    `json:"tampered"`
	Sealed    []sealedVector    `json:"sealed_keys"`
}

type identity struct {
	Bucket     string `json:"bucket"`
	Key        string `json:"key"`
	UploadID   string `json:"upload_id"`
	PartNumber int    `json:"part_number"`
}

// streamVector is one stream: the plaintext of PlaintextSize bytes encrypted under the key named
// ObjectKey with Salt. File is empty when only the SHA-256 of the ciphertext is kept.
type streamVector struct {
	Name             string   `json:"name"`
	Identity         identity `json:"identity"`
	ObjectKey        string   `json:"object_key"`
	Salt             string   `json:"salt"`
	PlaintextSize    int64    `json:"plaintext_size"`
	CiphertextSize   int64    `json:"ciphertext_size"`
	CiphertextSHA256 string   `json:"ciphertext_sha256"`
	File             string   `json:"file,omitempty"`
}

// multipartVector is an object made of part streams (in order) whose key is sealed in Sealed.
type multipartVector struct {
	Name   string   `json:"name"`
	Parts  []string `json:"parts"`
	Sealed string   `json:"sealed_key"`
}

// tamperVector describes a change to the stream Base; decrypting the result must fail with
// ErrAuth. Ops: "flip" (bit Bit of byte Offset), "truncate" (to Size bytes), "append" (Data),
// "swap" (the Length-byte runs at A and B), "copy" (Length bytes from A over B), "remove"
// (Length bytes at A), "identity" (decrypt as Identity), "key" (decrypt under ObjectKey).
type tamperVector struct {
	Name      string    `json:"name"`
	Base      string    `json:"base"`
	Op        string    `json:"op"`
	Offset    int64     `json:"offset,omitempty"`
	Bit       uint      `json:"bit,omitempty"`
	Size      int64     `json:"size,omitempty"`
	Data      string    `json:"data,omitempty"`
	A         int64     `json:"a,omitempty"`
	B         int64     `json:"b,omitempty"`
	Length    int64     `json:"length,omitempty"`
	Identity  *identity `json:"identity,omitempty"`
	ObjectKey string    `json:"object_key,omitempty"`
}

// sealedVector is a sealed key and what unsealing it with KEK (a key name), Mode and Identity
// gives: "ok" (the key named ObjectKey), "auth" (ErrAuth) or "wrong-key" (ErrWrongKey).
type sealedVector struct {
	Name      string   `json:"name"`
	Mode      byte     `json:"mode"`
	KEK       string   `json:"kek"`
	Identity  identity `json:"identity"`
	Sealed    string   `json:"sealed"`
	Expect    string   `json:"expect"`
	ObjectKey string   `json:"object_key,omitempty"`
}
