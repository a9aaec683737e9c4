package services

import (
	"context"
	"errors"
	"fmt"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// ErrNotFound is the answer of the read operations for an unknown service.
var ErrNotFound = problem.New(problem.NotFound, "Service not found",
	"The service you requested was not found in the system.")

// Get returns the latest version of a service, or ErrNotFound.
func Get(ctx context.Context, st Store, serviceID string) (Service, error) {
	s, err := st.Latest(ctx, serviceID)
	if errors.Is(err, problem.ErrNotFound) {
		return Service{}, ErrNotFound
	}
	if err != nil {
		return Service{}, problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the service")
	}
	return s, nil
}

// Create stores version 0 of a new service. Unlike the original (a 500), an
// existing service is a 409.
func Create(ctx context.Context, st Store, s Service) (Service, error) {
	s.Version = 0
	err := st.Create(ctx, s)
	if errors.Is(err, problem.ErrConflict) {
		return Service{}, problem.New(problem.Conflict, "Conflict",
			fmt.Sprintf("A service with service_id %q exists already.", s.ServiceID))
	}
	if err != nil {
		return Service{}, problem.Wrap(problem.Internal, err, "Query error", "CreateServiceHandler error")
	}
	return s, nil
}

// Update stores s as the next version of the service at pathID; every
// attribute is replaced. A concurrent update of the same version is a 409.
func Update(ctx context.Context, st Store, pathID string, s Service) (Service, error) {
	if s.ServiceID != pathID {
		return Service{}, problem.New(problem.Invalid, "Error validating payload",
			"Value of `service_id` in the request body must match the value of `service_id` path parameter")
	}
	cur, err := st.Latest(ctx, pathID)
	if errors.Is(err, problem.ErrNotFound) {
		return Service{}, problem.New(problem.NotFound, "Error", "Could not find a service with the provided serviceId")
	}
	if err != nil {
		return Service{}, problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the service")
	}
	s.Version = cur.Version + 1
	err = st.Create(ctx, s)
	if errors.Is(err, problem.ErrConflict) {
		return Service{}, problem.New(problem.Conflict, "Conflict",
			fmt.Sprintf("Version %d of the service was written concurrently; retry the update.", s.Version))
	}
	if err != nil {
		return Service{}, problem.Wrap(problem.Internal, err, "Query error", "Error while updating the existing service")
	}
	return s, nil
}
