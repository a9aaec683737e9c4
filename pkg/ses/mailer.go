// Package ses sends e-mails with Amazon SES v2.
package ses

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/digital-citizenship/functions/pkg/emails"
)

// API is the part of the SES v2 client the mailer uses.
type API interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Mailer implements emails.Mailer.
type Mailer struct {
	API API
	// ConfigurationSet, when set, routes SES events (bounces, complaints).
	ConfigurationSet string
}

// Send implements emails.Mailer. Refusals that no retry can fix (a rejected
// message, an unverified sender, a malformed request) wrap emails.ErrRejected.
func (m Mailer) Send(ctx context.Context, e emails.Email) error {
	var headers []types.MessageHeader
	for name, v := range e.Headers {
		headers = append(headers, types.MessageHeader{Name: aws.String(name), Value: aws.String(v)})
	}
	sort.Slice(headers, func(i, j int) bool { return *headers[i].Name < *headers[j].Name })
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(e.From),
		Destination:      &types.Destination{ToAddresses: []string{e.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(e.Subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Html: &types.Content{Data: aws.String(e.HTML), Charset: aws.String("UTF-8")},
				Text: &types.Content{Data: aws.String(e.Text), Charset: aws.String("UTF-8")},
			},
			Headers: headers,
		}},
	}
	if len(e.Attachments) > 0 {
		raw, err := Raw(e)
		if err != nil {
			return fmt.Errorf("%w: %v", emails.ErrRejected, err)
		}
		in.Content = &types.EmailContent{Raw: &types.RawMessage{Data: raw}}
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	for name, v := range e.Tags {
		in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String(name), Value: aws.String(v)})
	}
	sort.Slice(in.EmailTags, func(i, j int) bool { return *in.EmailTags[i].Name < *in.EmailTags[j].Name })
	_, err := m.API.SendEmail(ctx, in)
	if err == nil {
		return nil
	}
	// SES's messages may name the addresses (an unverified recipient in the
	// sandbox, say): errors keep the code only, so that no log gets them.
	var ae smithy.APIError
	if errors.As(err, &ae) {
		err = fmt.Errorf("SES %s (message withheld: it may name addresses)", ae.ErrorCode())
	}
	var rejected *types.MessageRejected
	var unverified *types.MailFromDomainNotVerifiedException
	var bad *types.BadRequestException
	if errors.As(ae, &rejected) || errors.As(ae, &unverified) || errors.As(ae, &bad) {
		return fmt.Errorf("%w: %v", emails.ErrRejected, err)
	}
	return fmt.Errorf("send e-mail: %w", err)
}
