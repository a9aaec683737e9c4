package remotecontent

import (
	"context"
	"errors"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// Configurations are a service's use cases of its configurations.
type Configurations struct {
	Store Store
	// AllowLocal lets base URLs be http and on loopback (the local stack).
	AllowLocal bool
	Now        func() time.Time
}

// Create stores a new configuration of serviceID from a body and returns
// its id.
func (u Configurations) Create(ctx context.Context, serviceID, userID string, body []byte) (string, error) {
	c, err := Parse(body, nil, u.AllowLocal)
	if err != nil {
		return "", err
	}
	now := u.Now()
	c.ID, c.ServiceID, c.UserID, c.CreatedAt, c.UpdatedAt = ids.ULID(now), serviceID, userID, now, now
	if err := u.Store.PutConfiguration(ctx, c, true); err != nil {
		return "", problem.Wrap(problem.Internal, err, "Query error", "Error while creating the configuration")
	}
	return c.ID, nil
}

// Update replaces a configuration of serviceID from a body: a key left out
// keeps the one it has.
func (u Configurations) Update(ctx context.Context, serviceID, id string, body []byte) (Configuration, error) {
	cur, err := Get(ctx, u.Store, serviceID, id)
	if err != nil {
		return Configuration{}, err
	}
	c, err := Parse(body, &cur, u.AllowLocal)
	if err != nil {
		return Configuration{}, err
	}
	c.ID, c.ServiceID, c.UserID, c.CreatedAt, c.UpdatedAt = cur.ID, serviceID, cur.UserID, cur.CreatedAt, u.Now()
	err = u.Store.PutConfiguration(ctx, c, false)
	if errors.Is(err, problem.ErrNotFound) {
		return Configuration{}, ErrNotFound
	}
	if err != nil {
		return Configuration{}, problem.Wrap(problem.Internal, err, "Query error", "Error while updating the configuration")
	}
	return c, nil
}

// List returns a page of a service's configurations.
func (u Configurations) List(ctx context.Context, serviceID string, r paging.Request) (paging.Page[View], error) {
	p, err := u.Store.Configurations(ctx, serviceID, r)
	if err != nil {
		return paging.Page[View]{}, err
	}
	out := paging.Page[View]{Items: make([]View, 0, len(p.Items)), Next: p.Next}
	for _, c := range p.Items {
		out.Items = append(out.Items, c.View())
	}
	return out, nil
}
