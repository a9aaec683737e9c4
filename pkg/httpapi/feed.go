package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/feed"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// GetSubscriptionsFeed serves GET /api/v1/subscriptions-feed/{date} (IO's
// getSubscriptionsFeed): the hashed fiscal codes of the citizens who
// subscribed to the calling service on that UTC day, and of those who
// unsubscribed; a large day comes in pages (page_size, next).
func GetSubscriptionsFeed(svcs services.Store, st feed.Store, now func() time.Time) Operation {
	return Operation{"GET", "/api/v1/subscriptions-feed/{date}", public(svcs, []auth.Group{auth.SubscriptionFeedRead}, func(w http.ResponseWriter, r request) error {
		day, err := feed.ParseDay(r.PathValue("date"), now())
		if err != nil {
			return err
		}
		size, err := feed.ParsePageSize(r.URL.Query().Get("page_size"))
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		page, next, err := feed.Read(r.Context(), st, r.Caller.ServiceID(), day, r.URL.Query().Get("cursor"), size)
		if errors.Is(err, paging.ErrCursor) {
			return err
		}
		if err != nil {
			return problem.Wrap(problem.Internal, err, "Query error", "Error while reading the subscriptions feed")
		}
		page.Next = nextLink(r, next, size)
		writeJSON(w, http.StatusOK, page)
		return nil
	})}
}
