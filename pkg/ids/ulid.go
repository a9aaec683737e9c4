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

// Floor returns the smallest ULID of time t's millisecond: every ULID made
// at or after t sorts at or after it.
func Floor(t time.Time) string { return timePart(t) + strings.Repeat("0", 16) }

// Ceil returns the largest ULID of time t's millisecond: every ULID made at
// or before t sorts at or before it.
func Ceil(t time.Time) string { return timePart(t) + strings.Repeat("Z", 16) }

func timePart(t time.Time) string {
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	out := make([]byte, 10)
	for i := 9; i >= 0; i-- {
		out[i] = crockford[ms&31]
		ms >>= 5
	}
	return string(out)
}

// Valid reports whether id is a ULID: 26 digits of Crockford base32 in
// upper case.
func Valid(id string) bool {
	if len(id) != 26 || id[0] > '7' {
		return false
	}
	for i := range len(id) {
		if strings.IndexByte(crockford, id[i]) < 0 {
			return false
		}
	}
	return true
}

// Pred returns the ULID just before id ("" for the smallest): a listing
// resumed strictly after id in descending order reads up to Pred(id).
func Pred(id string) string {
	b := []byte(id)
	for i := len(b) - 1; i >= 0; i-- {
		d := strings.IndexByte(crockford, b[i])
		if d > 0 {
			b[i] = crockford[d-1]
			return string(b)
		}
		b[i] = 'Z'
	}
	return ""
}
