// Package paging provides the platform's pagination: page sizes (at most 100,
// default 100) and opaque cursors that resume a listing after its last item.
// What a cursor holds is the store's business: it encodes and decodes them.
package paging

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// Size limits of a page.
const (
	MaxSize     = 100
	DefaultSize = 100
)

// Request asks for one page: at most Size items after Cursor ("" = first).
type Request struct {
	Size   int
	Cursor string
}

// Page is one page of items; Next is the cursor of the following page, ""
// when this is the last one.
type Page[T any] struct {
	Items []T
	Next  string
}

// ErrCursor is the answer to a cursor no listing returned.
var ErrCursor = problem.Invalidf("Invalid cursor", "value.cursor is not a cursor returned by this listing")

// Parse reads the page_size and cursor query parameters.
func Parse(pageSize, cursor string) (Request, error) {
	r := Request{Size: DefaultSize, Cursor: cursor}
	if pageSize != "" {
		n, err := strconv.Atoi(pageSize)
		if err != nil || n < 1 || n > MaxSize {
			return Request{}, problem.Invalidf("Invalid page_size", "value.page_size is not an integer between 1 and %d", MaxSize)
		}
		r.Size = n
	}
	return r, nil
}

// Encode returns the opaque cursor for a listing resumed after sortKey.
func Encode(sortKey string) string {
	if sortKey == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(sortKey))
}

// Decode returns the sort key in cursor ("" for the first page); a cursor
// that does not hold a key starting with prefix is ErrCursor.
func Decode(cursor, prefix string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !strings.HasPrefix(string(b), prefix) {
		return "", ErrCursor
	}
	return string(b), nil
}
