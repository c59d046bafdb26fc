package object

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
)

// The check values of the CRC catalogue ("123456789").
func TestCRCCheckValues(t *testing.T) {
	for _, tc := range []struct {
		alg  string
		want uint64
	}{{CRC32, 0xcbf43926}, {CRC32C, 0xe3069283}, {CRC64NVME, 0xae8b14860a799888}} {
		h := newHash(tc.alg)
		h.Write([]byte("123456789"))
		sum := h.Sum(nil)
		var got uint64
		if len(sum) == 4 {
			got = uint64(binary.BigEndian.Uint32(sum))
		} else {
			got = binary.BigEndian.Uint64(sum)
		}
		if got != tc.want {
			t.Errorf("%s(123456789) = %x, want %x", tc.alg, got, tc.want)
		}
	}
}

func b64(sum []byte) string { return base64.StdEncoding.EncodeToString(sum) }

func TestFullObjectCRC(t *testing.T) {
	data := []byte(strings.Repeat("coffer full-object checksum ", 5000))
	for _, alg := range []string{CRC32, CRC32C, CRC64NVME} {
		for _, cuts := range [][]int{{}, {1}, {7, 8, 9000}, {0, 70000}, {len(data) - 1}} {
			var values []string
			var sizes []int64
			start := 0
			for _, c := range append(cuts, len(data)) {
				h := newHash(alg)
				h.Write(data[start:c])
				values = append(values, b64(h.Sum(nil)))
				sizes = append(sizes, int64(c-start))
				start = c
			}
			whole := newHash(alg)
			whole.Write(data)
			got, ok := FullObjectCRC(alg, values, sizes)
			if !ok || got != b64(whole.Sum(nil)) {
				t.Errorf("%s cuts %v: combined %s, want %s", alg, cuts, got, b64(whole.Sum(nil)))
			}
		}
	}
	if _, ok := FullObjectCRC(SHA256, []string{"x"}, []int64{1}); ok {
		t.Error("SHA256 cannot be combined")
	}
	if _, ok := FullObjectCRC(CRC32, []string{"!!"}, []int64{1}); ok {
		t.Error("malformed value accepted")
	}
}

func TestCompositeChecksum(t *testing.T) {
	p1, p2 := newHash(CRC32), newHash(CRC32)
	p1.Write([]byte("part one"))
	p2.Write([]byte("part two"))
	outer := newHash(CRC32)
	outer.Write(p1.Sum(nil))
	outer.Write(p2.Sum(nil))
	got, ok := CompositeChecksum(CRC32, []string{b64(p1.Sum(nil)), b64(p2.Sum(nil))})
	if !ok || got != b64(outer.Sum(nil))+"-2" {
		t.Fatalf("composite %s", got)
	}
}

func BenchmarkFullObjectCRC10000Parts(b *testing.B) {
	values := make([]string, 10000)
	sizes := make([]int64, 10000)
	for i := range values {
		h := newHash(CRC64NVME)
		h.Write([]byte{byte(i), byte(i >> 8)})
		values[i] = b64(h.Sum(nil))
		sizes[i] = 5 << 20
	}
	for b.Loop() {
		if _, ok := FullObjectCRC(CRC64NVME, values, sizes); !ok {
			b.Fatal("combine failed")
		}
	}
}
