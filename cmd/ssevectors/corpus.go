package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// corpora writes the fuzz seed corpora of internal/sse in Go's corpus file format: the small
// streams of the "object" key and single identity for FuzzReader, every sealed key for
// FuzzParseSealedKey.
func (g *generator) corpora() error {
	dir := filepath.Join(g.out, "fuzz", "FuzzReader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"single-0", "single-1", "single-1000"} {
		ct := g.ct[name]
		seeds := map[string][]byte{name: ct, name + "-flipped": flipLast(ct), name + "-short": ct[:len(ct)-1]}
		for seedName, b := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint16(%d)\nuint16(%d)\n", b, len(b)/3, len(b)/2)
			if err := os.WriteFile(filepath.Join(dir, seedName), []byte(body), 0o644); err != nil {
				return err
			}
		}
	}
	dir = filepath.Join(g.out, "fuzz", "FuzzParseSealedKey")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, v := range g.m.Sealed {
		b, err := hex.DecodeString(v.Sealed)
		if err != nil {
			return err
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, v.Name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func flipLast(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)-1] ^= 1
	return c
}
