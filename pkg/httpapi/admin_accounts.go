package httpapi

import (
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// SetUserGroups is PUT /adm/users/{email}/groups: replaces a user's groups,
// creating the user if needed.
func SetUserGroups(st subscriptions.Store) Operation {
	return Operation{"PUT", "/adm/users/{email}/groups", admin([]auth.Group{auth.UserAdmin}, func(w http.ResponseWriter, r request) error {
		email := r.PathValue("email")
		if !validate.Email(email) {
			return problem.Invalidf("Invalid email", "value.email is not an e-mail address")
		}
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		var in struct {
			Groups *[]string `json:"groups"`
		}
		if err := validate.DecodeJSON(body, &in, "Invalid groups"); err != nil {
			return err
		}
		if in.Groups == nil {
			return problem.Invalidf("Invalid groups", "value.groups is not an array of group names")
		}
		u, err := subscriptions.SetGroups(r.Context(), st, email, *in.Groups)
		if err != nil {
			return err
		}
		items := make([]string, len(u.Groups))
		for i, g := range u.Groups {
			items[i] = string(g)
		}
		writeJSON(w, http.StatusOK, map[string][]string{"items": items})
		return nil
	})}
}

// SubscriptionView is the body that shows keys, once.
type SubscriptionView struct {
	ID           string `json:"id"`
	OwnerEmail   string `json:"owner_email"`
	ProductName  string `json:"product_name,omitempty"`
	PrimaryKey   string `json:"primary_key"`
	SecondaryKey string `json:"secondary_key"`
	// KeyType is LIVE or TEST (our extension).
	KeyType string `json:"key_type"`
}

// CreateSubscription is PUT /adm/users/{email}/subscriptions/{subscription_id}:
// the service must exist; both keys are shown in this response only.
func CreateSubscription(st subscriptions.Store, svcs services.Store, plan subscriptions.UsagePlan) Operation {
	path := "/adm/users/{email}/subscriptions/{subscription_id}"
	return Operation{"PUT", path, admin([]auth.Group{auth.UserAdmin}, func(w http.ResponseWriter, r request) error {
		email, id := r.PathValue("email"), r.PathValue("subscription_id")
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		var in struct {
			ProductName *string `json:"product_name"`
			KeyType     string  `json:"key_type"`
		}
		if len(body) > 0 {
			if err := validate.DecodeJSON(body, &in, "Invalid subscription"); err != nil {
				return err
			}
		}
		if _, err := services.Get(r.Context(), svcs, id); err != nil {
			return err
		}
		product := ""
		if in.ProductName != nil {
			product = *in.ProductName
		}
		s, keys, err := subscriptions.Create(r.Context(), st, plan, email, id, product, in.KeyType, nil)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, SubscriptionView{s.ID, s.OwnerEmail, s.ProductName, keys.Primary, keys.Secondary, s.Kind})
		return nil
	})}
}

// CacheFlusher forgets cached authorizer answers, so that a replaced key
// stops working at once.
type CacheFlusher interface {
	Flush(r *http.Request) error
}

// RegenerateKey is PUT /adm/services/{service_id}/keys: replaces one key and
// shows the new one; the old one stops working at once.
func RegenerateKey(st subscriptions.Store, flush CacheFlusher) Operation {
	return Operation{"PUT", "/adm/services/{service_id}/keys", admin([]auth.Group{auth.UserAdmin}, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		var in struct {
			KeyType string `json:"key_type"`
		}
		if err := validate.DecodeJSON(body, &in, "Invalid key_type"); err != nil {
			return err
		}
		key, err := subscriptions.Regenerate(r.Context(), st, r.PathValue("service_id"), subscriptions.KeyType(in.KeyType))
		if err != nil {
			return err
		}
		if flush != nil {
			if err := flush.Flush(r.Request); err != nil {
				return problem.Wrap(problem.Internal, err, "Internal server error",
					"The key was replaced, but the old one may work until the authorizer cache expires.")
			}
		}
		field := "primary_key"
		if in.KeyType == string(subscriptions.Secondary) {
			field = "secondary_key"
		}
		writeJSON(w, http.StatusOK, map[string]string{field: key})
		return nil
	})}
}
