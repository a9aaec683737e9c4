package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/fiscalcode"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// request is what the pipeline established before a handler runs.
type request struct {
	*http.Request
	Caller  auth.Caller
	Service services.Service
}

// checkSource is the original's source-IP check, run after validation.
func (r request) checkSource() error {
	if !auth.SourceAllowed(r.Caller.SourceIP, r.Service.AuthorizedCIDRs) {
		return auth.ErrNotAllowed
	}
	return nil
}

type handlerFunc func(w http.ResponseWriter, r request) error

// public runs the original's pipeline for a public API operation: groups,
// then the caller's service (a caller without one is not allowed), then h,
// which validates its input and calls checkSource before acting.
func public(svcs services.Store, allowed []auth.Group, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := auth.CallerFrom(r.Context())
		if err := auth.Authorize(c, ok, allowed...); err != nil {
			writeProblem(w, r, err)
			return
		}
		svc, err := callerService(r.Context(), svcs, c)
		if err != nil {
			writeProblem(w, r, err)
			return
		}
		if err := h(w, request{r, c, svc}); err != nil {
			writeProblem(w, r, err)
		}
	})
}

// admin runs the pipeline of an admin operation: groups only, as the
// original's admin API did.
func admin(allowed []auth.Group, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := auth.CallerFrom(r.Context())
		if err := auth.Authorize(c, ok, allowed...); err != nil {
			writeProblem(w, r, err)
			return
		}
		if err := h(w, request{Request: r, Caller: c}); err != nil {
			writeProblem(w, r, err)
		}
	})
}

// callerService returns the caller's service: the one the authorizer put in
// the context (no read), else the latest version from the store.
func callerService(ctx context.Context, st services.Store, c auth.Caller) (services.Service, error) {
	if s, ok := services.FromContext(ctx); ok && s.ServiceID == c.ServiceID() {
		return s, nil
	}
	s, err := st.Latest(ctx, c.ServiceID())
	if errors.Is(err, problem.ErrNotFound) {
		return services.Service{}, auth.ErrNotAllowed
	}
	if err != nil {
		return services.Service{}, problem.Wrap(problem.Internal, err, "Query error",
			"Error while retrieving the service tied to the provided subscription id")
	}
	return s, nil
}

// fiscalCodeParam returns the normalised fiscal code in path parameter name.
func fiscalCodeParam(r request, name string) (string, error) {
	fc, ok := fiscalcode.Normalize(r.PathValue(name))
	if !ok {
		return "", problem.Invalidf("Invalid FiscalCode", "value.%s is not a fiscal code (pattern %s)", name, fiscalcode.Pattern)
	}
	return fc, nil
}
