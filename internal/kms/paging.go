package kms

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sort"
)

// A list marker (SPEC.md §9) is opaque to clients: base64url (no padding) of
//
//	version (1 byte, markerVersion) | list (1 byte) | scope | after | MAC (16 bytes)
//
// where scope and after are each a 2-byte big-endian length and bytes, and MAC is the first
// 16 bytes of the root key's RecordMAC of markerLabel | 0x00 | everything before the MAC.
// after is the sort key of the last entry returned, so the next page starts after it
// whatever was inserted or deleted in between (a keyset marker: nothing is skipped or
// repeated); scope binds the marker to the caller's account and the listing it came from.
// A marker that does not decode or verify is InvalidMarkerException.
const (
	markerVersion = 1
	markerLabel   = "coffer kms marker v1"
	markerMACLen  = 16
)

// The listings that page, as the list byte of a marker names them.
const (
	listKeys           = 'K'
	listAliases        = 'A'
	listGrants         = 'G'
	listRetirable      = 'R'
	listTags           = 'T'
	listRotations      = 'O'
	listCustomKeyStore = 'S'
)

var errMarker = &Error{Kind: ErrInvalidMarker, Message: "Invalid marker"}

// markerBody is the part of a marker its MAC covers.
func markerBody(list byte, scope, after string) []byte {
	b := make([]byte, 0, 6+len(scope)+len(after)+markerMACLen)
	b = append(b, markerVersion, list)
	b = binary.BigEndian.AppendUint16(b, uint16(len(scope)))
	b = append(b, scope...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(after)))
	return append(b, after...)
}

func (s *Service) markerMAC(ctx context.Context, body []byte) ([]byte, error) {
	in := make([]byte, 0, len(markerLabel)+1+len(body))
	in = append(append(append(in, markerLabel...), 0), body...)
	mac, err := s.root.RecordMAC(ctx, in)
	if err != nil {
		return nil, s.internal("marker MAC", err)
	}
	return mac[:markerMACLen], nil
}

// newMarker returns the marker of a page of listing list in scope whose last entry has sort
// key after.
func (s *Service) newMarker(ctx context.Context, list byte, scope, after string) (string, error) {
	if len(scope) > 0xffff || len(after) > 0xffff {
		return "", s.internal("marker", fmt.Errorf("scope or sort key of %d, %d bytes", len(scope), len(after)))
	}
	body := markerBody(list, scope, after)
	mac, err := s.markerMAC(ctx, body)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(append(body, mac...)), nil
}

// markerAfter returns the sort key a marker of listing list in scope resumes after ("" for
// no marker).
func (s *Service) markerAfter(ctx context.Context, list byte, scope, marker string) (string, error) {
	if marker == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(marker)
	if err != nil || len(raw) < 6+markerMACLen {
		return "", errMarker
	}
	body, mac := raw[:len(raw)-markerMACLen], raw[len(raw)-markerMACLen:]
	want, err := s.markerMAC(ctx, body)
	if err != nil {
		return "", err
	}
	if !hmac.Equal(mac, want) {
		return "", errMarker
	}
	// The MAC holds: the body is one this service wrote. Check it is of this listing.
	if body[0] != markerVersion || body[1] != list {
		return "", errMarker
	}
	n := int(binary.BigEndian.Uint16(body[2:]))
	if len(body) < 4+n+2 || string(body[4:4+n]) != scope {
		return "", errMarker
	}
	rest := body[4+n:]
	m := int(binary.BigEndian.Uint16(rest))
	if len(rest) != 2+m {
		return "", errMarker
	}
	return string(rest[2:]), nil
}

// page returns the entries of all (sorted ascending by sortKey, which is unique) whose sort
// key is after the marker's, at most limit of them, and the marker of the next page ("" when
// this page ends the list).
func page[T any](ctx context.Context, s *Service, list byte, scope string, all []T, sortKey func(T) string, marker string, limit int) ([]T, string, error) {
	after, err := s.markerAfter(ctx, list, scope, marker)
	if err != nil {
		return nil, "", err
	}
	start := 0
	if marker != "" {
		start = sort.Search(len(all), func(i int) bool { return sortKey(all[i]) > after })
	}
	rest := all[start:]
	if len(rest) <= limit {
		return append([]T(nil), rest...), "", nil
	}
	next, err := s.newMarker(ctx, list, scope, sortKey(rest[limit-1]))
	if err != nil {
		return nil, "", err
	}
	return append([]T(nil), rest[:limit]...), next, nil
}
