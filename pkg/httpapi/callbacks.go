package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// CallbackView is a callback configuration as GET /api/v1/callback shows
// it: no secret, whether a bearer token is set, the recent failures.
type CallbackView struct {
	URL            string              `json:"url"`
	Events         []string            `json:"events"`
	Status         string              `json:"status"`
	HasBearerToken bool                `json:"has_bearer_token"`
	UpdatedAt      string              `json:"updated_at"`
	SuspendedAt    string              `json:"suspended_at,omitempty"`
	Failures       []callbacks.Failure `json:"recent_failures"`
	// SigningSecret is shown only in the answer to the PUT that made it.
	SigningSecret string `json:"signing_secret,omitempty"`
}

func callbackView(c callbacks.Config) CallbackView {
	v := CallbackView{URL: c.URL, Events: c.Events, Status: c.Status, HasBearerToken: c.BearerToken != "",
		UpdatedAt: messages.FormatTime(c.UpdatedAt), Failures: c.Failures}
	if !c.SuspendedAt.IsZero() {
		v.SuspendedAt = messages.FormatTime(c.SuspendedAt)
	}
	if v.Failures == nil {
		v.Failures = []callbacks.Failure{}
	}
	return v
}

var callbackGroups = []auth.Group{auth.CallbackWrite}

// PutCallback serves PUT /api/v1/callback: the calling service's delivery
// callbacks go to {url} from now on, ACTIVE (a PUT resumes suspended
// callbacks), signed with the service's secret (shown only here): the one
// it has, so that a receiver keeps verifying across a change or a resume,
// or a new one on the first PUT and with rotate_secret. With allowLocal
// (the local stack) http and loopback URLs are accepted.
func PutCallback(svcs services.Store, st callbacks.Store, flush CacheFlusher, allowLocal bool, now func() time.Time) Operation {
	return Operation{"PUT", "/api/v1/callback", public(svcs, callbackGroups, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		c, err := callbacks.Parse(body, allowLocal)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		c.ServiceID, c.Status, c.UpdatedAt = r.Caller.ServiceID(), callbacks.Active, now()
		switch old, err := st.Callback(r.Context(), c.ServiceID); {
		case err == nil && !c.RotateSecret:
			c.SigningSecret = old.SigningSecret
		case err == nil || errors.Is(err, problem.ErrNotFound):
			c.SigningSecret = callbacks.NewSecret()
		default:
			return problem.Wrap(problem.Internal, err, "Query error", "Error while reading the callback")
		}
		if err := st.PutCallback(r.Context(), c); err != nil {
			return problem.Wrap(problem.Internal, err, "Query error", "Error while saving the callback")
		}
		// The service's events travel with it in the authorizer's context:
		// new submissions see them at once.
		flushAfterServiceWrite(r, flush, c.ServiceID)
		v := callbackView(c)
		v.SigningSecret = c.SigningSecret
		writeJSON(w, http.StatusOK, v)
		return nil
	})}
}

// GetCallback serves GET /api/v1/callback: the calling service's
// configuration without secrets, its status and its recent failures.
func GetCallback(svcs services.Store, st callbacks.Store) Operation {
	return Operation{"GET", "/api/v1/callback", public(svcs, callbackGroups, func(w http.ResponseWriter, r request) error {
		if err := r.checkSource(); err != nil {
			return err
		}
		c, err := st.Callback(r.Context(), r.Caller.ServiceID())
		if errors.Is(err, problem.ErrNotFound) {
			return callbacks.ErrNotConfigured
		}
		if err != nil {
			return problem.Wrap(problem.Internal, err, "Query error", "Error while reading the callback")
		}
		writeJSON(w, http.StatusOK, callbackView(c))
		return nil
	})}
}

// DeleteCallback serves DELETE /api/v1/callback: no more callbacks for the
// calling service (204, also when it had none); events already queued are
// dropped.
func DeleteCallback(svcs services.Store, st callbacks.Store, flush CacheFlusher) Operation {
	return Operation{"DELETE", "/api/v1/callback", public(svcs, callbackGroups, func(w http.ResponseWriter, r request) error {
		if err := r.checkSource(); err != nil {
			return err
		}
		if err := st.DeleteCallback(r.Context(), r.Caller.ServiceID()); err != nil {
			return problem.Wrap(problem.Internal, err, "Query error", "Error while deleting the callback")
		}
		flushAfterServiceWrite(r, flush, r.Caller.ServiceID())
		w.WriteHeader(http.StatusNoContent)
		return nil
	})}
}

// TestCallback serves POST /api/v1/callback/test: a callback.test event
// for the calling service's callbacks, delivered as any other (signed,
// retried, held while SUSPENDED), whatever events they ask for; 202 with
// the event's id, 404 without a configuration.
func TestCallback(svcs services.Store, st callbacks.Store, q messages.Queue, now func() time.Time) Operation {
	return Operation{"POST", "/api/v1/callback/test", public(svcs, callbackGroups, func(w http.ResponseWriter, r request) error {
		if err := r.checkSource(); err != nil {
			return err
		}
		if _, err := st.Callback(r.Context(), r.Caller.ServiceID()); errors.Is(err, problem.ErrNotFound) {
			return callbacks.ErrNotConfigured
		} else if err != nil {
			return problem.Wrap(problem.Internal, err, "Query error", "Error while reading the callback")
		}
		e := callbacks.NewTestEvent(r.Caller.ServiceID(), now())
		if err := q.Send(r.Context(), e); err != nil {
			return problem.Wrap(problem.Internal, err, "Queue error", "Error while queueing the test event")
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"id": e.ID, "event": e.Event})
		return nil
	})}
}
