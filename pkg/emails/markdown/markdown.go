// Package markdown renders a message's markdown as the HTML and plain-text
// parts of its e-mail, in the platform's page.
package markdown

import (
	"bytes"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/digital-citizenship/functions/pkg/emails"
)

// md renders CommonMark; raw HTML in the markdown is dropped, as in the
// original (goldmark omits it unless told otherwise).
var md = goldmark.New()

// Render returns the HTML and plain-text parts of a message e-mail. Subject
// and sender names are escaped (the original inserted them raw). The page is
// assembled by hand: html/template's reflection would make the linker keep
// every method of the SDK clients and bloat the function binary.
func Render(subject, markdown string, s emails.Sender) (string, string, error) {
	var body bytes.Buffer
	if err := md.Convert([]byte(markdown), &body); err != nil {
		return "", "", err
	}
	e := html.EscapeString
	var b strings.Builder
	b.WriteString(pageStart)
	b.WriteString(e(subject))
	b.WriteString(pageSender)
	b.WriteString(e(s.OrganizationName) + "</strong><br>" + e(s.DepartmentName) + "<br>" + e(s.ServiceName))
	b.WriteString(pageTitle)
	b.WriteString(e(subject) + "</h1>\n")
	b.Write(body.Bytes())
	b.WriteString(pageEnd)
	return b.String(), plainText(subject, markdown, s), nil
}

const pageStart = `<!DOCTYPE html>
<html lang="it"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>`

const pageSender = `</title></head>
<body style="margin:0;padding:0;background:#f5f5f5;font-family:'Titillium Web',Geneva,Tahoma,sans-serif;color:#17324d">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="600" cellpadding="24" cellspacing="0" style="background:#ffffff;max-width:600px">
<tr><td style="border-bottom:1px solid #e6e9f2"><strong>`

const pageTitle = `</td></tr>
<tr><td><h1 style="font-size:24px;margin:0 0 16px">`

const pageEnd = `</td></tr>
<tr><td style="font-size:12px;color:#5c6f82;border-top:1px solid #e6e9f2">Questo messaggio ti è stato inviato tramite IO, l'app dei servizi pubblici.</td></tr>
</table></td></tr></table></body></html>
`

// plainText walks the markdown tree and keeps its words: headings and
// paragraphs as lines, list items with a dash, links followed by their URL.
func plainText(subject, markdown string, s emails.Sender) string {
	src := []byte(markdown)
	doc := md.Parser().Parse(text.NewReader(src))
	var b strings.Builder
	b.WriteString(s.OrganizationName + "\n" + s.DepartmentName + " - " + s.ServiceName + "\n\n" + subject + "\n\n")
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		switch n := n.(type) {
		case *ast.Text:
			if entering {
				b.Write(n.Segment.Value(src))
				if n.SoftLineBreak() || n.HardLineBreak() {
					b.WriteByte('\n')
				}
			}
		case *ast.CodeSpan, *ast.String:
			if s, ok := n.(*ast.String); ok && entering {
				b.Write(s.Value)
			}
		case *ast.ListItem:
			if entering {
				b.WriteString("- ")
			}
		case *ast.Link:
			if !entering {
				b.WriteString(" (" + string(n.Destination) + ")")
			}
		case *ast.Paragraph, *ast.Heading, *ast.TextBlock, *ast.FencedCodeBlock, *ast.CodeBlock:
			if entering && (n.Kind() == ast.KindFencedCodeBlock || n.Kind() == ast.KindCodeBlock) {
				lines := n.Lines()
				for i := 0; i < lines.Len(); i++ {
					seg := lines.At(i)
					b.Write(seg.Value(src))
				}
			}
			if !entering {
				b.WriteString("\n\n")
			}
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String()) + "\n"
}
