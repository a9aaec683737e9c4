package services

import "context"

type contextKey struct{}

// NewContext returns ctx carrying s, the caller's service as the authorizer
// read it, so that an operation needs no read of its own.
func NewContext(ctx context.Context, s Service) context.Context {
	return context.WithValue(ctx, contextKey{}, s)
}

// FromContext returns the service NewContext put in ctx, and false when
// there is none.
func FromContext(ctx context.Context) (Service, bool) {
	s, ok := ctx.Value(contextKey{}).(Service)
	return s, ok
}
