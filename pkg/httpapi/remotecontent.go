package httpapi

import (
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
	"github.com/digital-citizenship/functions/pkg/services"
)

var remoteContentGroups = []auth.Group{auth.RemoteContentWrite}

const configurationsPath = "/api/v1/remote-contents/configurations"

// CreateRemoteContentConfiguration serves POST /api/v1/remote-contents/configurations:
// a configuration of the calling service, 201 {configuration_id}.
func CreateRemoteContentConfiguration(svcs services.Store, u remotecontent.Configurations) Operation {
	return Operation{"POST", configurationsPath, public(svcs, remoteContentGroups, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		if _, err := remotecontent.Parse(body, nil, u.AllowLocal); err != nil { // the 400 before the source check
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		id, err := u.Create(r.Context(), r.Service.ServiceID, r.Caller.UserID, body)
		if err != nil {
			return err
		}
		w.Header().Set("Location", configurationsPath+"/"+id)
		writeJSON(w, http.StatusCreated, map[string]string{"configuration_id": id})
		return nil
	})}
}

// ListRemoteContentConfigurations serves GET /api/v1/remote-contents/configurations:
// the calling service's configurations, a page at a time, without keys.
func ListRemoteContentConfigurations(svcs services.Store, u remotecontent.Configurations) Operation {
	return Operation{"GET", configurationsPath, public(svcs, remoteContentGroups, func(w http.ResponseWriter, r request) error {
		pr, err := pageRequest(r)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		p, err := u.List(r.Context(), r.Service.ServiceID, pr)
		if err != nil {
			return listError(err, "Error while listing the configurations")
		}
		writePage(w, r, pr, p.Items, p.Next)
		return nil
	})}
}

// GetRemoteContentConfiguration serves GET /api/v1/remote-contents/configurations/{configuration_id}.
func GetRemoteContentConfiguration(svcs services.Store, u remotecontent.Configurations) Operation {
	return Operation{"GET", configurationsPath + "/{configuration_id}", public(svcs, remoteContentGroups, func(w http.ResponseWriter, r request) error {
		if err := r.checkSource(); err != nil {
			return err
		}
		c, err := remotecontent.Get(r.Context(), u.Store, r.Service.ServiceID, r.PathValue("configuration_id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c.View())
		return nil
	})}
}

// UpdateRemoteContentConfiguration serves PUT /api/v1/remote-contents/configurations/{configuration_id}:
// the configuration replaced (a key left out is kept); 200 with it.
func UpdateRemoteContentConfiguration(svcs services.Store, u remotecontent.Configurations) Operation {
	return Operation{"PUT", configurationsPath + "/{configuration_id}", public(svcs, remoteContentGroups, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		c, err := u.Update(r.Context(), r.Service.ServiceID, r.PathValue("configuration_id"), body)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c.View())
		return nil
	})}
}

var appGroups = []auth.Group{auth.MessageList}

const thirdPartyPath = "/api/v1/third-party-messages/{fiscal_code}/{id}"

// GetThirdPartyMessage serves GET /api/v1/third-party-messages/{fiscal_code}/{id}
// to the app backend: the message with its content as the sender's system
// gives it now.
func GetThirdPartyMessage(svcs services.Store, rd remotecontent.Reader) Operation {
	return Operation{"GET", thirdPartyPath, public(svcs, appGroups, func(w http.ResponseWriter, r request) error {
		fc, err := r.citizen()
		if err != nil {
			return err
		}
		v, err := rd.Message(r.Context(), r.Caller, fc, r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	})}
}

// GetThirdPartyMessagePrecondition serves GET .../precondition: the
// opening condition's {title, markdown}, from the sender's system.
func GetThirdPartyMessagePrecondition(svcs services.Store, rd remotecontent.Reader) Operation {
	return Operation{"GET", thirdPartyPath + "/precondition", public(svcs, appGroups, func(w http.ResponseWriter, r request) error {
		fc, err := r.citizen()
		if err != nil {
			return err
		}
		p, err := rd.Precondition(r.Context(), r.Caller, fc, r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, p)
		return nil
	})}
}

// GetThirdPartyMessageAttachment serves GET .../attachments/{attachment_url+}:
// a document the sender's message lists (by its url, or its id), fetched
// from the sender's system and handed over by a 5-minute link.
func GetThirdPartyMessageAttachment(svcs services.Store, rd remotecontent.Reader) Operation {
	return Operation{"GET", thirdPartyPath + "/attachments/{attachment_url+}", public(svcs, appGroups, func(w http.ResponseWriter, r request) error {
		fc, err := r.citizen()
		if err != nil {
			return err
		}
		link, err := rd.Attachment(r.Context(), r.Caller, fc, r.PathValue("id"), r.PathValue("attachment_url"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, link)
		return nil
	})}
}

// citizen returns the {fiscal_code} of the path once valid, and the
// caller's source allowed.
func (r request) citizen() (string, error) {
	fc, err := fiscalCodeParam(r, "fiscal_code")
	if err != nil {
		return "", err
	}
	return fc, r.checkSource()
}
