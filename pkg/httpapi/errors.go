package httpapi

import (
	"errors"

	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// listError passes a bad cursor on as the 400 it is; anything else is a
// query error.
func listError(err error, detail string) error {
	if errors.Is(err, paging.ErrCursor) {
		return paging.ErrCursor
	}
	var pe *problem.Error
	if errors.As(err, &pe) { // the request's own fault, found by the lister
		return pe
	}
	return problem.Wrap(problem.Internal, err, "Query error", detail)
}
