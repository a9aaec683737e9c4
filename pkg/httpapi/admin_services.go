package httpapi

import (
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/services"
)

// CreateService is the admin createService: 200 with version 0.
func CreateService(st services.Store) Operation {
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
func UpdateService(st services.Store) Operation {
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
		writeJSON(w, http.StatusOK, saved.AdminView())
		return nil
	})}
}
