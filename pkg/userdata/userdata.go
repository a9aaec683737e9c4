// Package userdata serves the citizen's data rights: a copy of everything
// the platform holds about them (DOWNLOAD) and its erasure (DELETE), as the
// successors' user-data-processing requests. A request is PENDING until
// its processor (a scheduled function each: Exporter, Eraser) takes it: a
// download at once, a deletion once its grace period has passed (the
// citizen may abort it until then). It is WIP while processed, then CLOSED, or FAILED after
// repeated failures; an aborted deletion is ABORTED. The request record
// outlives an erasure: it is the proof that the erasure was done.
package userdata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// Choices.
const (
	Download = "DOWNLOAD"
	Delete   = "DELETE"
)

// Statuses.
const (
	Pending = "PENDING"
	WIP     = "WIP"
	Closed  = "CLOSED"
	Failed  = "FAILED"
	Aborted = "ABORTED"
)

// Request is one user-data-processing request: the latest of its choice
// for the citizen.
type Request struct {
	ID         string
	FiscalCode string
	Choice     string
	Status     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// DueAt is when the processor may take it (a deletion's grace period).
	DueAt time.Time
	// Attempts counts the processor's tries; Reason says why it FAILED.
	Attempts int
	Reason   string
	// Archive is a closed download's object key; Confirmed is set once a
	// deletion's confirmation e-mail was sent.
	Archive   string
	Confirmed bool
}

// Open reports whether the request is still to be processed.
func (r Request) Open() bool { return r.Status == Pending || r.Status == WIP }

// View is a request as the API shows it.
type View struct {
	Choice    string     `json:"choice"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	DueAt     *time.Time `json:"due_at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	// DownloadURL is a fresh link to a closed download's archive, while
	// the archive is kept.
	DownloadURL string `json:"download_url,omitempty"`
}

// View returns the API view (without a download link).
func (r Request) View() View {
	v := View{Choice: r.Choice, Status: r.Status, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Reason: r.Reason}
	if r.Choice == Delete && r.Status == Pending {
		due := r.DueAt
		v.DueAt = &due
	}
	return v
}

// Store keeps requests and the index of those due.
type Store interface {
	// Request returns the citizen's latest request of choice, or
	// problem.ErrNotFound.
	Request(ctx context.Context, fiscalCode, choice string) (Request, error)
	// Open stores r (PENDING) and indexes it as due at r.DueAt, in one
	// write, unless the citizen has an open request of that choice
	// (problem.ErrConflict).
	Open(ctx context.Context, r Request) error
	// Due lists the open requests of choice due at now, oldest first, at
	// most n.
	Due(ctx context.Context, choice string, now time.Time, n int) ([]Request, error)
	// Update writes r's status, attempts, reason, archive and confirmation
	// on condition that the stored request is r.ID in one of the statuses
	// from (problem.ErrConflict otherwise); a final status removes it from
	// the index in the same write.
	Update(ctx context.Context, r Request, from ...string) error
}

// Grace is the default grace period of a deletion.
const Grace = 7 * 24 * time.Hour

// Title of every 400 about a request body.
const Title = "Invalid UserDataProcessingChoiceRequest"

// ParseChoice validates a body {"choice": "DOWNLOAD"|"DELETE"}.
func ParseChoice(body []byte) (string, error) {
	var in struct {
		Choice *string `json:"choice"`
	}
	if err := validate.DecodeJSON(body, &in, Title); err != nil {
		return "", err
	}
	if in.Choice == nil || (*in.Choice != Download && *in.Choice != Delete) {
		return "", problem.Invalidf(Title, "value.choice is not one of DOWNLOAD, DELETE")
	}
	return *in.Choice, nil
}

// ValidChoice checks a choice path parameter.
func ValidChoice(choice string) error {
	if choice != Download && choice != Delete {
		return problem.Invalidf("Invalid UserDataProcessingChoice", "value.choice is not one of DOWNLOAD, DELETE")
	}
	return nil
}

// ErrOpen answers a request while another of the same choice is open.
var ErrOpen = problem.New(problem.Conflict, "Conflict",
	"Another request of this choice is PENDING or WIP; wait for it, or abort a pending deletion.")

// Start opens a request: a download is due at once, a deletion after
// grace. The citizen must have a profile.
func Start(ctx context.Context, st Store, profs profiles.Recipients, fiscalCode, choice string, grace time.Duration, now time.Time) (Request, error) {
	_, err := profs.Recipient(ctx, fiscalCode)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return Request{}, profiles.ErrNotFound
	case err != nil:
		return Request{}, problem.Wrap(problem.Internal, err, "Query error", "Error while reading the profile")
	}
	r := Request{ID: ids.ULID(now), FiscalCode: fiscalCode, Choice: choice, Status: Pending, CreatedAt: now, UpdatedAt: now, DueAt: now}
	if choice == Delete {
		r.DueAt = now.Add(grace)
	}
	err = st.Open(ctx, r)
	if errors.Is(err, problem.ErrConflict) {
		return Request{}, ErrOpen
	}
	if err != nil {
		return Request{}, problem.Wrap(problem.Internal, err, "Query error", "Error while saving the request")
	}
	return r, nil
}

// ErrNotFound answers a citizen without a request of the choice.
var ErrNotFound = problem.New(problem.NotFound, "Not found", "There is no request of this choice for this citizen.")

// Get returns the citizen's latest request of choice.
func Get(ctx context.Context, st Store, fiscalCode, choice string) (Request, error) {
	r, err := st.Request(ctx, fiscalCode, choice)
	if errors.Is(err, problem.ErrNotFound) {
		return Request{}, ErrNotFound
	}
	if err != nil {
		return Request{}, problem.Wrap(problem.Internal, err, "Query error", "Error while reading the request")
	}
	return r, nil
}

// ErrNotAbortable answers an abort of anything but a pending deletion.
var ErrNotAbortable = problem.New(problem.Conflict, "Conflict",
	"Only a PENDING deletion can be aborted; a download, or a deletion already under way, cannot.")

// Abort cancels a pending deletion.
func Abort(ctx context.Context, st Store, fiscalCode, choice string, now time.Time) (Request, error) {
	r, err := Get(ctx, st, fiscalCode, choice)
	if err != nil {
		return Request{}, err
	}
	if choice != Delete || r.Status != Pending {
		return Request{}, ErrNotAbortable
	}
	r.Status, r.UpdatedAt = Aborted, now
	err = st.Update(ctx, r, Pending)
	if errors.Is(err, problem.ErrConflict) {
		return Request{}, ErrNotAbortable
	}
	if err != nil {
		return Request{}, problem.Wrap(problem.Internal, err, "Query error", "Error while aborting the request")
	}
	return r, nil
}

// IndexKey is the sort key of r in the index of due requests: due time
// first, so that a query reads those due up to a time.
func IndexKey(r Request) string {
	return fmt.Sprintf("%s#%s#%s", r.DueAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), r.FiscalCode, r.Choice)
}
