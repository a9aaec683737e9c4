package httpapi

import (
	"net/http"
	"strconv"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// collection is the original's paginated shape: items, page_size and, when
// more remain, a relative link to the next page.
type collection[T any] struct {
	Items    []T    `json:"items"`
	PageSize int    `json:"page_size"`
	Next     string `json:"next,omitempty"`
}

func pageRequest(r request) (paging.Request, error) {
	q := r.URL.Query()
	return paging.Parse(q.Get("page_size"), q.Get("cursor"))
}

func writePage[T any](w http.ResponseWriter, r request, pr paging.Request, items []T, next string) {
	writeJSON(w, http.StatusOK, collection[T]{Items: items, PageSize: pr.Size, Next: nextLink(r, next, pr.Size)})
}

// nextLink is the relative link of the page after cursor next ("" when
// there is none): the request's filters stay; cursor and size are set.
func nextLink(r request, next string, size int) string {
	if next == "" {
		return ""
	}
	q := r.URL.Query()
	q.Set("cursor", next)
	q.Set("page_size", strconv.Itoa(size))
	return r.URL.Path + "?" + q.Encode()
}

// GetVisibleServices is getVisibleServices: the catalogue of visible services.
func GetVisibleServices(svcs services.Store) Operation {
	return Operation{"GET", "/api/v1/services", public(svcs, []auth.Group{auth.PublicServiceList}, func(w http.ResponseWriter, r request) error {
		pr, err := pageRequest(r)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		p, err := svcs.Visible(r.Context(), pr)
		if err != nil {
			return listError(err, "Error getting visible services list")
		}
		writePage(w, r, pr, p.Items, p.Next)
		return nil
	})}
}

// citizenList is a paginated list of one citizen's items (fiscal code in
// the path), shown through view.
func citizenList[T, V any](svcs services.Store, group auth.Group, path, detail string,
	list func(r request, fiscalCode string, pr paging.Request) (paging.Page[T], error), view func(T) V) Operation {
	return Operation{"GET", path, public(svcs, []auth.Group{group}, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		pr, err := pageRequest(r)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		p, err := list(r, fc, pr)
		if err != nil {
			return listError(err, detail)
		}
		items := make([]V, len(p.Items))
		for i, it := range p.Items {
			items[i] = view(it)
		}
		writePage(w, r, pr, items, p.Next)
		return nil
	})}
}

// GetServicesByRecipient is getServicesByRecipient: the services that wrote
// to a citizen, with the version they had then.
func GetServicesByRecipient(svcs services.Store, st messages.Store) Operation {
	return citizenList(svcs, auth.ServiceByRecipientQuery, "/api/v1/profiles/{fiscal_code}/sender-services",
		"Error while retrieving the sender services",
		func(r request, fc string, pr paging.Request) (paging.Page[messages.SenderService], error) {
			return st.Senders(r.Context(), fc, pr)
		},
		func(s messages.SenderService) services.Tuple {
			return services.Tuple{ServiceID: s.ServiceID, Version: s.ServiceVersion}
		})
}

// GetMessagesByUser is getMessagesByUser: a citizen's inbox, newest first,
// with each message's read and archived flags; ?archived=true|false keeps
// only archived or only current messages.
func GetMessagesByUser(svcs services.Store, st messages.Store) Operation {
	return citizenList(svcs, auth.MessageList, "/api/v1/messages/{fiscal_code}", "Error while retrieving the messages",
		func(r request, fc string, pr paging.Request) (paging.Page[messages.Message], error) {
			var f messages.InboxFilter
			switch a := r.URL.Query().Get("archived"); a {
			case "":
			case "true", "false":
				archived := a == "true"
				f.Archived = &archived
			default:
				return paging.Page[messages.Message]{}, problem.Invalidf("Invalid archived", "value.archived is not a boolean (true or false)")
			}
			return st.Inbox(r.Context(), fc, pr, f)
		}, messages.Message.InboxItem)
}

// GetService is the public getService.
func GetService(svcs services.Store) Operation {
	return Operation{"GET", "/api/v1/services/{service_id}", public(svcs, []auth.Group{auth.PublicServiceRead}, func(w http.ResponseWriter, r request) error {
		if err := r.checkSource(); err != nil {
			return err
		}
		s, err := services.Get(r.Context(), svcs, r.PathValue("service_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.PublicView())
		return nil
	})}
}

// ListMessages serves GET /api/v1/messages: what the calling service sent,
// newest first, with each message's status and channels; filters status,
// reference, since, until and a channel's outcome (email=FAILED).
func ListMessages(svcs services.Store, st messages.SentStore) Operation {
	return Operation{"GET", "/api/v1/messages", public(svcs, []auth.Group{auth.MessageRead}, func(w http.ResponseWriter, r request) error {
		pr, err := pageRequest(r)
		if err != nil {
			return err
		}
		f, err := messages.ParseSentFilter(r.URL.Query())
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		p, err := st.Sent(r.Context(), r.Caller.ServiceID(), pr, f)
		if err != nil {
			return listError(err, "Error while retrieving the messages")
		}
		items := make([]messages.SentView, len(p.Items))
		for i, m := range p.Items {
			items[i] = m.SentItem()
			// SenderIndex does not project is_test: a subscription's kind
			// never changes and its id is its service's, so every message
			// a service sent has its caller's kind.
			items[i].IsTest = items[i].IsTest || r.Caller.Test
		}
		writePage(w, r, pr, items, p.Next)
		return nil
	})}
}
