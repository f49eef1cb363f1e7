package deliver_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/deliver"
)

// node is a MIME part read back: its type, the parameters that matter,
// and either children or a decoded body.
type node struct {
	Type     string
	Method   string
	Charset  string
	Filename string
	Body     string
	Kids     []node
}

func readTree(t *testing.T, h interface{ Get(string) string }, body io.Reader) node {
	t.Helper()
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	n := node{Type: mt, Method: params["method"], Charset: params["charset"]}
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		n.Filename = dp["filename"]
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return n
			}
			if err != nil {
				t.Fatalf("%s: %v", mt, err)
			}
			n.Kids = append(n.Kids, readTree(t, p.Header, p))
		}
	}
	switch h.Get("Content-Transfer-Encoding") {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("%s body: %v", mt, err)
	}
	n.Body = string(b)
	return n
}

func TestCalendarInvitation(t *testing.T) {
	ics := "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Q&A — été\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	guide := deliver.Attachment{Filename: "guide.pdf", ContentType: "application/pdf", Data: []byte("%PDF")}
	for _, tc := range []struct {
		name        string
		method      string
		attachments []deliver.Attachment
	}{
		{"request", "REQUEST", nil},
		{"cancel", "CANCEL", nil},
		{"request with a guide", "REQUEST", []deliver.Attachment{guide}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := message()
			m.Attachments = tc.attachments
			m.Calendar = &deliver.Calendar{Method: tc.method, Data: []byte(ics)}
			raw := render(t, m)
			checkLines(t, raw)
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			got := readTree(t, msg.Header, msg.Body)
			want := node{Type: "multipart/mixed", Kids: []node{
				{Type: "multipart/alternative", Kids: []node{
					{Type: "text/plain", Charset: "utf-8", Body: crlf(m.Text)},
					{Type: "text/html", Charset: "utf-8", Body: crlf(m.HTML)},
					{Type: "text/calendar", Charset: "UTF-8", Method: tc.method, Body: ics},
				}},
			}}
			for _, a := range tc.attachments {
				want.Kids = append(want.Kids, node{Type: a.ContentType, Filename: a.Filename, Body: string(a.Data)})
			}
			want.Kids = append(want.Kids, node{Type: "application/ics", Filename: "invite.ics", Body: ics})
			// The calendar keeps its bytes exactly (CRLF included); the
			// quoted-printable bodies compare with either line end.
			if len(got.Kids) > 0 && len(got.Kids[0].Kids) == 3 && got.Kids[0].Kids[2].Body != ics || got.Kids[len(got.Kids)-1].Body != ics {
				t.Errorf("calendar bytes changed in transit")
			}
			if d := cmp.Diff(want, got, cmp.Transformer("crlf", crlf)); d != "" {
				t.Errorf("MIME tree (-want +got):\n%s", d)
			}
			if m.Calendar.Method != tc.method || len(m.Attachments) != len(tc.attachments) {
				t.Error("WriteTo changed the message")
			}
		})
	}
}

func TestCalendarMethodRejected(t *testing.T) {
	for _, method := range []string{"", "request", "REQUEST\r\nBcc: x@evil.example", "REQUEST; charset=x", "REFRESH"} {
		m := message()
		m.Calendar = &deliver.Calendar{Method: method, Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err == nil || !strings.Contains(err.Error(), "calendar method") {
			t.Errorf("method %q: err = %v, want a calendar method error", method, err)
		}
		if strings.Contains(b.String(), "evil") {
			t.Errorf("method %q: wrote %q", method, b.String())
		}
	}
}
