package ses

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"slices"
	"strings"

	"github.com/digital-citizenship/functions/pkg/emails"
)

// Raw returns e as a MIME message (RFC 5322, 2045-2049) in 7-bit ASCII:
// multipart/mixed of the text and HTML alternatives and the attachments.
// SES takes attachments only in a raw message.
func Raw(e emails.Email) ([]byte, error) {
	var b bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", e.From)
	header("To", e.To)
	header("Subject", mime.QEncoding.Encode("UTF-8", e.Subject))
	header("MIME-Version", "1.0")
	for _, name := range slices.Sorted(maps.Keys(e.Headers)) {
		header(name, mime.QEncoding.Encode("UTF-8", e.Headers[name]))
	}
	mixed := multipart.NewWriter(&b)
	header("Content-Type", `multipart/mixed; boundary="`+mixed.Boundary()+`"`)
	b.WriteString("\r\n")

	var alt bytes.Buffer
	altw := multipart.NewWriter(&alt)
	for _, p := range []struct{ typ, body string }{{"text/plain", e.Text}, {"text/html", e.HTML}} {
		w, err := altw.CreatePart(textproto.MIMEHeader{"Content-Type": {p.typ + "; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(p.body)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := altw.Close(); err != nil {
		return nil, err
	}
	w, err := mixed.CreatePart(textproto.MIMEHeader{"Content-Type": {`multipart/alternative; boundary="` + altw.Boundary() + `"`}})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(alt.Bytes()); err != nil {
		return nil, err
	}
	for _, a := range e.Attachments {
		name := strings.NewReplacer(`"`, "", "\r", "", "\n", "").Replace(a.Filename)
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType + `; name="` + name + `"`},
			"Content-Disposition":       {`attachment; filename="` + name + `"`},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			fmt.Fprintf(w, "%s\r\n", enc[:76])
			enc = enc[76:]
		}
		fmt.Fprintf(w, "%s\r\n", enc)
	}
	if err := mixed.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
