package markdown

import (
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/emails"
)

func TestRender(t *testing.T) {
	mdText := "# This is an H1\n\nSome **bold** text and a [link](https://io.italia.it).\n\n* Red\n* Green\n\n1. Bird\n2. McHale\n\n<script>alert(1)</script>\n"
	html, txt, err := Render("Subject <b>", mdText, emails.Sender{OrganizationName: "Comune di <Roma>", DepartmentName: "Tributi", ServiceName: "TARI"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h1>This is an H1</h1>", "<ul>\n<li>Red</li>", "<ol>\n<li>Bird</li>",
		"<strong>bold</strong>", "Subject &lt;b&gt;", "Comune di &lt;Roma&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>") {
		t.Error("raw HTML from markdown kept")
	}
	for _, want := range []string{"This is an H1", "Some bold text and a link (https://io.italia.it).", "- Red", "- Bird", "Subject <b>"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "**") || strings.Contains(txt, "<script>") {
		t.Errorf("text keeps markup:\n%s", txt)
	}
}
