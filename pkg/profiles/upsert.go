package profiles

import (
	"context"
	"errors"
	"fmt"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// ErrNotFound is getProfile's answer for an unknown citizen.
var ErrNotFound = problem.New(problem.NotFound, "Profile not found",
	"The profile you requested was not found in the system.")

// Get returns the latest version of the profile, or ErrNotFound.
func Get(ctx context.Context, st Store, fiscalCode string) (Profile, error) {
	p, err := st.Latest(ctx, fiscalCode)
	if errors.Is(err, problem.ErrNotFound) {
		return Profile{}, ErrNotFound
	}
	if err != nil {
		return Profile{}, problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the profile")
	}
	return p, nil
}

// Upsert creates version 0 of a new profile (the body's version is ignored)
// or, when body.Version is the latest version, stores the next version with
// every attribute replaced. Any other version, or a concurrent writer that
// got there first, is a 409: exactly one writer of a version wins.
func Upsert(ctx context.Context, st Store, body Profile) (Profile, error) {
	requested := body.Version
	cur, err := st.Latest(ctx, body.FiscalCode)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		body.Version = 0
	case err != nil:
		return Profile{}, problem.Wrap(problem.Internal, err, "Query error", "Error")
	case body.Version != cur.Version:
		return Profile{}, conflict(body.Version)
	default:
		body.Version = cur.Version + 1
	}
	err = st.Create(ctx, body)
	if errors.Is(err, problem.ErrConflict) {
		return Profile{}, conflict(requested)
	}
	if err != nil {
		return Profile{}, problem.Wrap(problem.Internal, err, "Query error", "Error while updating the existing profile")
	}
	return body, nil
}

func conflict(v int) error {
	return problem.New(problem.Conflict, "Conflict", fmt.Sprintf("Version %d is not the latest version.", v))
}
