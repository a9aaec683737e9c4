package messages

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// WebhookSender POSTs the original's notify payload to the app backend
// (WEBHOOK_CHANNEL_URL). 2xx is SENT; 5xx, 408, 429, a timeout or a refused
// connection are retried; any other answer is FAILED.
type WebhookSender struct {
	URL    string
	Client *http.Client // with the webhook's timeout
}

type webhookPayload struct {
	Message struct {
		Content         Content `json:"content"`
		CreatedAt       string  `json:"created_at"`
		FiscalCode      string  `json:"fiscal_code"`
		ID              string  `json:"id"`
		SenderServiceID string  `json:"sender_service_id"`
	} `json:"message"`
	SenderMetadata struct {
		DepartmentName   string `json:"department_name"`
		OrganizationName string `json:"organization_name"`
		ServiceName      string `json:"service_name"`
	} `json:"sender_metadata"`
}

// WebhookBody is the JSON the webhook receives for ev.
func WebhookBody(ev NotificationEvent) []byte {
	var p webhookPayload
	em, sm := ev.Message, ev.SenderMetadata
	p.Message.Content, p.Message.CreatedAt, p.Message.FiscalCode, p.Message.ID, p.Message.SenderServiceID =
		ev.Content, FormatTime(em.CreatedAt), em.FiscalCode, em.ID, em.SenderServiceID
	p.SenderMetadata.DepartmentName, p.SenderMetadata.OrganizationName, p.SenderMetadata.ServiceName =
		sm.DepartmentName, sm.OrganizationName, sm.ServiceName
	b, _ := json.Marshal(p)
	return b
}

// Send implements Sender. Errors never carry the URL: it holds a secret.
func (s WebhookSender) Send(ctx context.Context, ev NotificationEvent, _ []string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(WebhookBody(ev)))
	if err != nil {
		return nil, Permanent("The webhook URL is not valid.", nil)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := s.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return nil, fmt.Errorf("webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	switch c := res.StatusCode; {
	case c >= 200 && c < 300:
		return nil, nil
	case c >= 500 || c == http.StatusRequestTimeout || c == http.StatusTooManyRequests:
		return nil, fmt.Errorf("webhook answered %d", c)
	default:
		return nil, Permanent(fmt.Sprintf("The webhook answered %d.", c), nil)
	}
}
