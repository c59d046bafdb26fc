package object

import (
	"encoding/base64"
	"encoding/binary"
)

// Full-object checksums of multipart uploads: the CRC of the whole object is computed from the
// parts' CRCs and lengths without reading the data again, by the GF(2) matrix method of zlib's
// crc32_combine, which holds for any reflected CRC whose init and final xor are all ones
// (CRC32, CRC32C and CRC64/NVME all are).

// crcParams returns the reflected polynomial and width in bits of a CRC algorithm.
func crcParams(alg string) (poly uint64, width int, ok bool) {
	switch alg {
	case CRC32:
		return 0xedb88320, 32, true
	case CRC32C:
		return 0x82f63b78, 32, true
	case CRC64NVME:
		return 0x9a6c9329ac4bc9b5, 64, true
	}
	return 0, 0, false
}

func gf2Times(mat []uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat []uint64) {
	for n := range mat {
		square[n] = gf2Times(mat, mat[n])
	}
}

// crcCombine returns the CRC of A||B from crcA, crcB and len(B).
func crcCombine(poly uint64, width int, crcA, crcB uint64, lenB int64) uint64 {
	if lenB <= 0 {
		return crcA
	}
	odd := make([]uint64, width)
	even := make([]uint64, width)
	odd[0] = poly
	row := uint64(1)
	for n := 1; n < width; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(even, odd) // two zero bits
	gf2Square(odd, even) // four zero bits
	for {
		gf2Square(even, odd) // one zero byte, then doubling
		if lenB&1 != 0 {
			crcA = gf2Times(even, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		gf2Square(odd, even)
		if lenB&1 != 0 {
			crcA = gf2Times(odd, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

// FullObjectCRC combines base64 part CRCs (in order, with their lengths) into the base64 CRC of
// the whole object. ok is false for a non-CRC algorithm or a malformed value.
func FullObjectCRC(alg string, values []string, sizes []int64) (string, bool) {
	poly, width, ok := crcParams(alg)
	if !ok || len(values) != len(sizes) || len(values) == 0 {
		return "", false
	}
	// The operator "append n zero bytes" is linear: build its matrix once per part size (parts
	// are nearly all one size) from its action on the basis vectors, then each part costs one
	// matrix-vector product instead of a fresh O(log n) chain of squarings.
	ops := map[int64][]uint64{}
	shift := func(crc uint64, n int64) uint64 {
		m, ok := ops[n]
		if !ok {
			m = make([]uint64, width)
			for b := range width {
				m[b] = crcCombine(poly, width, 1<<b, 0, n)
			}
			ops[n] = m
		}
		return gf2Times(m, crc)
	}
	var acc uint64
	for i, v := range values {
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(raw) != width/8 {
			return "", false
		}
		var c uint64
		if width == 32 {
			c = uint64(binary.BigEndian.Uint32(raw))
		} else {
			c = binary.BigEndian.Uint64(raw)
		}
		if i == 0 {
			acc = c
			continue
		}
		if sizes[i] > 0 {
			acc = shift(acc, sizes[i]) ^ c
		}
	}
	out := make([]byte, width/8)
	if width == 32 {
		binary.BigEndian.PutUint32(out, uint32(acc))
	} else {
		binary.BigEndian.PutUint64(out, acc)
	}
	return base64.StdEncoding.EncodeToString(out), true
}
