package roster

import "encoding/binary"

// Word-at-a-time tests of ASCII text. Roster cells are short and nearly
// always ASCII: these look at eight bytes at once, and the callers fall back
// to the byte-by-byte rules on anything else.

const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// load64 returns the first eight bytes of s as a little-endian word; the
// compiler makes it one load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// isASCII reports whether every byte of s is below 0x80.
func isASCII(s string) bool {
	var acc uint64
	for len(s) >= 8 {
		acc |= load64(s)
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		acc |= uint64(s[i])
	}
	return acc&msbs == 0
}

// ctlBytes is not zero when a byte of w, a word of ASCII bytes, is below
// 0x20 or is 0x7f (DEL).
func ctlBytes(w uint64) uint64 {
	low := (w - 0x20*lsbs) &^ w // below 0x20 (bytes of w are < 0x80)
	del := w ^ 0x7f*lsbs        // zero where w is 0x7f
	del = (del - lsbs) &^ del
	return (low | del) & msbs
}

// lowerASCII lower-cases the ASCII letters of b in place and reports
// whether b is all ASCII; b is left changed in part when it is not.
func lowerASCII(b []byte) bool {
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if w&msbs != 0 {
			return false
		}
		// The high bit of each byte: set from 'A' up, and from 'Z'+1 up.
		upper := (w + (0x80-'A')*lsbs) &^ (w + (0x80-'Z'-1)*lsbs) & msbs
		w |= upper >> 2 // 0x80 >> 2 is the 0x20 between 'A' and 'a'
		binary.LittleEndian.PutUint64(b, w)
		b = b[8:]
	}
	for i, c := range b {
		switch {
		case c >= 0x80:
			return false
		case isUpper(c):
			b[i] = c + 'a' - 'A'
		}
	}
	return true
}
