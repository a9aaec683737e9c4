// Package problem is the one error vocabulary of the platform: every failure a
// caller can see is an *Error with a Kind, a title and a detail, and Status maps
// kinds to HTTP statuses in one table. Internal causes are kept for logs only.
package problem

import (
	"errors"
	"fmt"
)

// Kind classifies a failure so that callers can switch on it.
type Kind int

// The kinds of failure. Internal is the zero value so that an unclassified
// error is never shown to a client as anything but a 500.
const (
	Internal Kind = iota
	Invalid
	Unauthorized
	Forbidden
	NotFound
	MethodNotAllowed
	Conflict
	Gone
	Unprocessable
	TooManyRequests
	Unavailable
	// BadGateway and GatewayTimeout: a system the platform called for the
	// caller (a sender's, for remote content) failed or did not answer.
	BadGateway
	GatewayTimeout
)

var statuses = map[Kind]int{
	Internal:         500,
	Invalid:          400,
	Unauthorized:     401,
	Forbidden:        403,
	NotFound:         404,
	MethodNotAllowed: 405,
	Conflict:         409,
	Gone:             410,
	Unprocessable:    422,
	TooManyRequests:  429,
	Unavailable:      503,
	BadGateway:       502,
	GatewayTimeout:   504,
}

// Status returns the HTTP status of a kind.
func Status(k Kind) int { return statuses[k] }

// Error is a failure with a client-facing title and detail.
type Error struct {
	Kind   Kind
	Title  string
	Detail string
	// Err is the internal cause; it is logged, never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Title, e.Detail, e.Err)
	}
	return e.Title + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error of kind k.
func New(k Kind, title, detail string) *Error {
	return &Error{Kind: k, Title: title, Detail: detail}
}

// Wrap returns an *Error of kind k that keeps err as its hidden cause.
func Wrap(k Kind, err error, title, detail string) *Error {
	return &Error{Kind: k, Title: title, Detail: detail, Err: err}
}

// ErrNotFound is returned by stores when an item does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by stores when a write condition fails (the item
// exists already, or it changed since it was read).
var ErrConflict = errors.New("conflict")

// KindOf returns the kind of the first *Error in err's chain; stores' sentinel
// errors map to NotFound and Conflict; anything else is Internal.
func KindOf(err error) Kind {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Kind
	case errors.Is(err, ErrNotFound):
		return NotFound
	case errors.Is(err, ErrConflict):
		return Conflict
	}
	return Internal
}

// As returns the first *Error in err's chain, or a generic internal error
// whose detail reveals nothing of err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Title: "Internal server error", Detail: "An unexpected error occurred", Err: err}
}

// Invalidf returns a 400 problem with the given title and formatted detail.
func Invalidf(title, format string, args ...any) *Error {
	return New(Invalid, title, fmt.Sprintf(format, args...))
}
