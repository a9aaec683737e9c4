package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/receipts"
)

// exitInvalid is the exit status of dcp receipt verify for a receipt that
// does not verify.
const exitInvalid = 4

func receiptCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "receipt", Short: "Get and check the signed receipts of messages' openings"}
	var out string
	get := &cobra.Command{
		Use:   "get FISCAL_CODE MESSAGE_ID",
		Short: "Save a message's latest receipt (a JWS) to --out, or print it",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			c, _, err := o.client(0, 3)
			if err != nil {
				return err
			}
			r, err := c.GetMessageReceiptWithResponse(cmd.Context(), args[0], args[1])
			if err == nil {
				err = r.Err()
			}
			if err != nil {
				return err
			}
			if out == "" {
				_, err = fmt.Fprintln(cmd.OutOrStdout(), r.JSON200.Receipt)
				return err
			}
			return os.WriteFile(out, []byte(r.JSON200.Receipt+"\n"), 0o644)
		},
	}
	get.Flags().StringVarP(&out, "out", "o", "", "the file to save the receipt to")
	var keys, content string
	verify := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a receipt offline against the published keys, and print what it proves",
		Long: `verify checks a receipt's signature against the platform's public keys (a JWKS: --keys FILE or
URL, else GET <api>/api/v1/receipts/keys, anonymous) and prints its payload. FILE holds the
receipt: the JWS itself, or a JSON object with a "receipt" field (GET .../receipt's answer, a
message.opened callback). With --content FILE (getMessage's answer, or a message's content), it
also checks that the receipt's content digest is that content's. Exit 0 when it verifies, 4 when
it does not.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			jws, err := readReceipt(args[0])
			if err != nil {
				return err
			}
			set, err := jwks(cmd, o, keys)
			if err != nil {
				return err
			}
			p, err := receipts.Verify(jws, set)
			if err != nil {
				return exitError{code: exitInvalid, msg: "INVALID: " + err.Error()}
			}
			if content != "" {
				c, err := readContent(content)
				if err != nil {
					return err
				}
				if got := receipts.ContentDigest(c); got != p.Content.Digest {
					return exitError{code: exitInvalid, msg: fmt.Sprintf("INVALID: the content's digest is %s, the receipt's %s", got, p.Content.Digest)}
				}
			}
			b, _ := json.MarshalIndent(p, "", "  ")
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "VALID: %s of message %s, signed by the published key\n%s\n", p.Event, p.MessageID, b)
			return err
		},
	}
	verify.Flags().StringVar(&keys, "keys", "", "the public keys: a JWKS file or URL (default: the API's /api/v1/receipts/keys)")
	verify.Flags().StringVar(&content, "content", "", "a message (getMessage's answer) or its content, whose digest the receipt must carry")
	cmd.AddCommand(get, verify)
	return cmd
}

// readReceipt reads a JWS from a file: the JWS, or JSON with a receipt.
func readReceipt(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	var wrapped struct {
		Receipt string `json:"receipt"`
	}
	if json.Unmarshal(b, &wrapped) == nil && wrapped.Receipt != "" {
		return wrapped.Receipt, nil
	}
	return strings.TrimSpace(string(b)), nil
}

// readContent reads a message's content: getMessage's answer, or the
// content itself.
func readContent(file string) (messages.Content, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return messages.Content{}, err
	}
	var msg struct {
		Message struct {
			Content *messages.Content `json:"content"`
		} `json:"message"`
	}
	if err := json.Unmarshal(b, &msg); err == nil && msg.Message.Content != nil {
		return *msg.Message.Content, nil
	}
	var c messages.Content
	if err := json.Unmarshal(b, &c); err != nil || c.Subject == "" {
		return messages.Content{}, errors.New(file + " is neither getMessage's answer nor a message's content")
	}
	return c, nil
}

// jwks reads the public keys: a file, a URL, or the API's (anonymous).
func jwks(cmd *cobra.Command, o *options, from string) (receipts.JWKS, error) {
	if from == "" {
		if o.api == "" {
			return receipts.JWKS{}, errors.New("the keys: --keys FILE or URL, or the API's URL (--api or DCP_API_URL)")
		}
		from = strings.TrimRight(o.api, "/") + "/api/v1/receipts/keys"
	}
	var raw []byte
	if strings.HasPrefix(from, "http://") || strings.HasPrefix(from, "https://") {
		req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, from, nil)
		if err != nil {
			return receipts.JWKS{}, err
		}
		res, err := (&http.Client{Timeout: o.timeout}).Do(req)
		if err != nil {
			return receipts.JWKS{}, fmt.Errorf("the keys: %w", err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return receipts.JWKS{}, fmt.Errorf("the keys: %s answered %d", from, res.StatusCode)
		}
		if raw, err = io.ReadAll(io.LimitReader(res.Body, 1<<20)); err != nil {
			return receipts.JWKS{}, err
		}
	} else {
		var err error
		if raw, err = os.ReadFile(from); err != nil {
			return receipts.JWKS{}, err
		}
	}
	var set receipts.JWKS
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) == 0 {
		return receipts.JWKS{}, fmt.Errorf("the keys: %s is not a JWKS", from)
	}
	return set, nil
}
