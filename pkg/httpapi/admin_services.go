package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/services"
)

// CreateService is the admin createService: 200 with version 0.
//
// Both service writes flush the authorizer cache (flush may be nil): the
// authorizer hands the caller's service to the operations, so a cached
// answer would otherwise carry the old version until it expires.
func CreateService(st services.Store, flush CacheFlusher) Operation {
	return Operation{"POST", "/adm/services", admin([]auth.Group{auth.ServiceWrite}, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		s, err := services.Parse(body)
		if err != nil {
			return err
		}
		saved, err := services.Create(r.Context(), st, s)
		if err != nil {
			return err
		}
		flushAfterServiceWrite(r, flush, saved.ServiceID)
		writeJSON(w, http.StatusOK, saved.AdminView())
		return nil
	})}
}

// GetServiceAdmin is the admin getService: the full service.
func GetServiceAdmin(st services.Store) Operation {
	return Operation{"GET", "/adm/services/{service_id}", admin([]auth.Group{auth.ServiceRead}, func(w http.ResponseWriter, r request) error {
		s, err := services.Get(r.Context(), st, r.PathValue("service_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.AdminView())
		return nil
	})}
}

// UpdateService is the admin updateService: the next version, all replaced.
func UpdateService(st services.Store, flush CacheFlusher) Operation {
	return Operation{"PUT", "/adm/services/{service_id}", admin([]auth.Group{auth.ServiceWrite}, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		s, err := services.Parse(body)
		if err != nil {
			return err
		}
		saved, err := services.Update(r.Context(), st, r.PathValue("service_id"), s)
		if err != nil {
			return err
		}
		flushAfterServiceWrite(r, flush, saved.ServiceID)
		writeJSON(w, http.StatusOK, saved.AdminView())
		return nil
	})}
}

// flushAfterServiceWrite flushes the authorizer cache after a service write.
// A failed flush does not fail the write, which is saved: the old version
// may be used until the cache's TTL passes, and the log says so.
func flushAfterServiceWrite(r request, flush CacheFlusher, serviceID string) {
	if flush == nil {
		return
	}
	if err := flush.Flush(r.Request); err != nil {
		slog.WarnContext(r.Context(), "authorizer cache not flushed after a service write; the old version may be used until the cache expires",
			"service_id", serviceID, "error", err.Error())
	}
}
