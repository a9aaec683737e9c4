// Package remotecontent keeps a message's content at its sender's (IO's
// "messages with remote content"). A service describes its system once, in
// a remote-content configuration: where to call it (base_url) and with
// which key, for production and, for a list of test users, for testing. A
// message names a configuration and its id at the sender
// (content.third_party_data); the platform stores no more, and each time
// the app backend opens the message it calls the sender's
// GET {base_url}/messages/{id} (and /precondition, and the documents),
// with the configured key and the citizen's fiscal code in headers, through
// the callbacks' safe client. Nothing fetched is stored, logged or cached
// past the request: the one exception is a document, handed over through
// a transit bucket (a random key, a 5-minute link, expired by S3 within a
// day), since a Lambda's answer cannot carry 10 MB.
package remotecontent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/fiscalcode"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// Configuration is how the platform reaches a service's system.
type Configuration struct {
	ID        string
	ServiceID string
	// UserID is who created it (the subscription's owner).
	UserID      string
	Name        string
	Description string
	// HasPrecondition is the default opening condition of its messages
	// (ALWAYS, ONCE, NONE).
	HasPrecondition string
	Prod            Environment
	// Test, when set, serves its TestUsers instead of Prod.
	Test      *Environment
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Environment is one of the sender's systems.
type Environment struct {
	BaseURL string
	Auth    Auth
	// TestUsers are the fiscal codes a test environment serves.
	TestUsers []string
}

// Auth is the header that authenticates the platform to the sender's
// system: HeaderKeyName: Key. Type names the scheme (API_KEY).
type Auth struct {
	HeaderKeyName string
	Key           string
	Type          string
}

// For returns the environment that serves a citizen: the test one for
// its test users, else production.
func (c Configuration) For(fiscalCode string) Environment {
	if c.Test != nil && slices.Contains(c.Test.TestUsers, fiscalCode) {
		return *c.Test
	}
	return c.Prod
}

// Store keeps the configurations, by service.
type Store interface {
	// Configuration returns one of a service's configurations, or
	// problem.ErrNotFound.
	Configuration(ctx context.Context, serviceID, id string) (Configuration, error)
	// Configurations lists a service's configurations, one page at a time.
	Configurations(ctx context.Context, serviceID string, r paging.Request) (paging.Page[Configuration], error)
	// PutConfiguration creates (create) or replaces a configuration:
	// problem.ErrConflict when create and it exists, problem.ErrNotFound
	// when replacing one that does not.
	PutConfiguration(ctx context.Context, c Configuration, create bool) error
}

// Limits of a configuration.
const (
	MaxName        = 100
	MaxDescription = 1000
	MaxKey         = 1000
	MaxTestUsers   = 100
)

// InputTitle is the title of every 400 about a configuration.
const InputTitle = "Invalid RCConfiguration"

type environmentInput struct {
	BaseURL *string `json:"base_url"`
	Auth    *struct {
		HeaderKeyName *string `json:"header_key_name"`
		Key           *string `json:"key"`
		Type          *string `json:"type"`
	} `json:"details_authentication"`
	TestUsers *[]string `json:"test_users"`
}

type input struct {
	Name            *string           `json:"name"`
	Description     *string           `json:"description"`
	HasPrecondition *string           `json:"has_precondition"`
	Prod            *environmentInput `json:"prod_environment"`
	Test            *environmentInput `json:"test_environment"`
}

// Parse decodes and validates a configuration body. A key may be left out
// when current (a PUT's configuration as it is) has one for that
// environment: keys are never shown, so a change of anything else need not
// send them again. With allowLocal (the local stack) base URLs may be http
// and on loopback.
func Parse(body []byte, current *Configuration, allowLocal bool) (Configuration, error) {
	var in input
	if err := validate.DecodeJSON(body, &in, InputTitle); err != nil {
		return Configuration{}, err
	}
	r := validate.NewReport(InputTitle)
	var c Configuration
	c.Name = textField(r, "name", in.Name, MaxName, validate.SingleLine)
	c.Description = textField(r, "description", in.Description, MaxDescription, validate.MultiLine)
	c.HasPrecondition = messages.PreconditionNone
	if in.HasPrecondition != nil {
		if v, ok := messages.ParsePrecondition(*in.HasPrecondition); ok {
			c.HasPrecondition = v
		} else {
			r.Addf("has_precondition", "one of ALWAYS, ONCE, NONE")
		}
	}
	var curProd, curTest *Environment
	if current != nil {
		curProd, curTest = &current.Prod, current.Test
	}
	if in.Prod == nil {
		r.Addf("prod_environment", "an object with base_url and details_authentication")
	} else {
		c.Prod = parseEnvironment(r, "prod_environment", *in.Prod, curProd, false, allowLocal)
	}
	if in.Test != nil {
		t := parseEnvironment(r, "test_environment", *in.Test, curTest, true, allowLocal)
		c.Test = &t
	}
	return c, r.Err()
}

func textField(r *validate.Report, name string, v *string, max int, clean func(string) bool) string {
	if v == nil || validate.Chars(*v) < 1 || validate.Chars(*v) > max || !clean(*v) {
		r.Addf(name, "a string of 1 to %d characters without control characters", max)
		return ""
	}
	return *v
}

func parseEnvironment(r *validate.Report, path string, in environmentInput, cur *Environment, test, allowLocal bool) Environment {
	var e Environment
	if in.BaseURL == nil {
		r.Addf(path+".base_url", "an https URL")
	} else if err := callbacks.CheckURL(*in.BaseURL, allowLocal); err != nil {
		r.Addf(path+".base_url", "%s", err.Error())
	} else {
		e.BaseURL = strings.TrimRight(*in.BaseURL, "/")
	}
	a := in.Auth
	if a == nil {
		r.Addf(path+".details_authentication", "an object with header_key_name, key and type")
	} else {
		if a.HeaderKeyName == nil || !headerName(*a.HeaderKeyName) {
			r.Addf(path+".details_authentication.header_key_name", "a header name (1 to 100 of A-Z a-z 0-9 - _), not one HTTP or the platform sets")
		} else {
			e.Auth.HeaderKeyName = *a.HeaderKeyName
		}
		switch {
		case a.Key != nil && (len(*a.Key) < 1 || len(*a.Key) > MaxKey || !validate.SingleLine(*a.Key)):
			r.Addf(path+".details_authentication.key", "a key of 1 to %d characters on one line", MaxKey)
		case a.Key != nil:
			e.Auth.Key = *a.Key
		case cur != nil && cur.Auth.Key != "":
			e.Auth.Key = cur.Auth.Key // kept: keys are never shown again
		default:
			r.Addf(path+".details_authentication.key", "a key of 1 to %d characters on one line", MaxKey)
		}
		if a.Type == nil || len(*a.Type) < 1 || len(*a.Type) > 50 || !validate.SingleLine(*a.Type) {
			r.Addf(path+".details_authentication.type", "a string of 1 to 50 characters (API_KEY)")
		} else {
			e.Auth.Type = *a.Type
		}
	}
	if test {
		if in.TestUsers == nil || len(*in.TestUsers) > MaxTestUsers {
			r.Addf(path+".test_users", "an array of at most %d fiscal codes", MaxTestUsers)
		} else {
			for i, u := range *in.TestUsers {
				fc, ok := fiscalcode.Normalize(u)
				if !ok {
					r.Addf(fmt.Sprintf("%s.test_users.%d", path, i), "a fiscal code")
					continue
				}
				e.TestUsers = append(e.TestUsers, fc)
			}
		}
	}
	return e
}

// reserved are headers the configured key may not take: HTTP's own and
// the one that carries the citizen.
var reserved = []string{"host", "content-length", "content-type", "transfer-encoding", "connection", "accept", "user-agent",
	"te", "upgrade", "trailer", "proxy-authorization", "expect", strings.ToLower(FiscalCodeHeader)}

func headerName(s string) bool {
	if len(s) < 1 || len(s) > 100 || slices.Contains(reserved, strings.ToLower(s)) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// View is a configuration as the API shows it: never its keys.
type View struct {
	ConfigurationID string           `json:"configuration_id"`
	UserID          string           `json:"user_id,omitempty"`
	Name            string           `json:"name"`
	Description     string           `json:"description"`
	HasPrecondition string           `json:"has_precondition"`
	Prod            EnvironmentView  `json:"prod_environment"`
	Test            *EnvironmentView `json:"test_environment,omitempty"`
	CreatedAt       string           `json:"created_at"`
	UpdatedAt       string           `json:"updated_at"`
}

// EnvironmentView is an environment without its key.
type EnvironmentView struct {
	BaseURL string `json:"base_url"`
	Auth    struct {
		HeaderKeyName string `json:"header_key_name"`
		Type          string `json:"type"`
	} `json:"details_authentication"`
	TestUsers []string `json:"test_users,omitempty"`
}

func (e Environment) view() EnvironmentView {
	v := EnvironmentView{BaseURL: e.BaseURL, TestUsers: e.TestUsers}
	v.Auth.HeaderKeyName, v.Auth.Type = e.Auth.HeaderKeyName, e.Auth.Type
	return v
}

// View returns the API view.
func (c Configuration) View() View {
	v := View{ConfigurationID: c.ID, UserID: c.UserID, Name: c.Name, Description: c.Description, HasPrecondition: c.HasPrecondition,
		Prod: c.Prod.view(), CreatedAt: messages.FormatTime(c.CreatedAt), UpdatedAt: messages.FormatTime(c.UpdatedAt)}
	if c.Test != nil {
		t := c.Test.view()
		v.Test = &t
	}
	return v
}

// ErrNotFound answers a configuration the service does not have.
var ErrNotFound = problem.New(problem.NotFound, "Configuration not found",
	"This service has no remote-content configuration with this id.")

// Get returns a service's configuration, or ErrNotFound.
func Get(ctx context.Context, st Store, serviceID, id string) (Configuration, error) {
	c, err := st.Configuration(ctx, serviceID, id)
	if errors.Is(err, problem.ErrNotFound) {
		return Configuration{}, ErrNotFound
	}
	if err != nil {
		return Configuration{}, problem.Wrap(problem.Internal, err, "Query error", "Error while reading the configuration")
	}
	return c, nil
}
