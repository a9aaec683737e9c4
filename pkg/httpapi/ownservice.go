package httpapi

import (
	"net/http"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

// OwnService is the answer of GET /api/v1/service: the calling service as
// its administrator set it, the groups of the caller's key, and the
// service's use of its daily limit.
type OwnService struct {
	Service services.Admin `json:"service"`
	Groups  []auth.Group   `json:"groups"`
	Usage   messages.Usage `json:"usage"`
	// KeyType is the kind of the caller's key: LIVE or TEST.
	KeyType string `json:"key_type"`
}

// GetOwnService serves GET /api/v1/service for a key of any group: what a
// developer's portal shows of the service the key belongs to.
func GetOwnService(svcs services.Store, usage messages.UsageReader, now func() time.Time) Operation {
	return Operation{"GET", "/api/v1/service", public(svcs, auth.AllGroups, func(w http.ResponseWriter, r request) error {
		if err := r.checkSource(); err != nil {
			return err
		}
		u, err := messages.UsageOf(r.Context(), usage, r.Service.ServiceID, r.Service.DailyLimit(), now())
		if err != nil {
			return problem.Wrap(problem.Internal, err, "Query error", "Error while reading the service's usage")
		}
		groups := r.Caller.Groups
		if groups == nil {
			groups = []auth.Group{}
		}
		kind := subscriptions.Live
		if r.Caller.Test {
			kind = subscriptions.Test
		}
		writeJSON(w, http.StatusOK, OwnService{Service: r.Service.AdminView(), Groups: groups, Usage: u, KeyType: kind})
		return nil
	})}
}
