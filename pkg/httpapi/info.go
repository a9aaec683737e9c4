package httpapi

import (
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/services"
)

// GetInfo is getInfo: GET /api/v1/info answers {"status":"OK"}.
func GetInfo(svcs services.Store) Operation {
	return Operation{"GET", "/api/v1/info", public(svcs, []auth.Group{auth.InfoRead}, func(w http.ResponseWriter, r request) error {
		if err := r.checkSource(); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
		return nil
	})}
}
