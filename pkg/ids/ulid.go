// Package ids makes identifiers: ULIDs (26 characters of Crockford base32,
// sortable by creation time) as the original used for messages.
package ids

import (
	"crypto/rand"
	"strings"
	"time"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ULID returns a new ULID for time t.
func ULID(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails (Go >= 1.24)
	return encode(b)
}

// encode writes the 128 bits as 26 base32 digits, the first one carrying 3 bits.
func encode(b [16]byte) string {
	out := make([]byte, 26)
	// Treat b as a big-endian 130-bit number (2 leading zero bits).
	var acc uint32
	bits := 2 // leading padding bits
	j := 0
	for _, v := range b {
		acc = acc<<8 | uint32(v)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out[j] = crockford[(acc>>uint(bits))&31]
			j++
		}
	}
	return string(out)
}

// Time returns the time a ULID was made for (millisecond precision), the
// zero time for a string that is not one.
func Time(id string) time.Time {
	if len(id) != 26 {
		return time.Time{}
	}
	var ms uint64
	for _, c := range id[:10] { // the first 10 digits: 50 bits, 48 of them the time
		i := strings.IndexByte(crockford, byte(c))
		if i < 0 {
			return time.Time{}
		}
		ms = ms<<5 | uint64(i)
	}
	return time.UnixMilli(int64(ms))
}
