package graphtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// SentMail is one message accepted by POST /users/{id}/sendMail.
type SentMail struct {
	// Mailbox is the {id | userPrincipalName} of the request URL, UserID the
	// id of the user it names.
	Mailbox string
	UserID  string
	// Message is the JSON message as sent; zero for a MIME message.
	Message Message
	// MIME is the decoded MIME message when sent as base64 MIME
	// (Content-Type: text/plain); nil for JSON.
	MIME            []byte
	SaveToSentItems bool
	At              time.Time
}

// Message is the part of Graph's message resource a sendMail request
// carries.
type Message struct {
	Subject                string          `json:"subject"`
	Body                   ItemBody        `json:"body"`
	From                   *Recipient      `json:"from"`
	ToRecipients           []Recipient     `json:"toRecipients"`
	CcRecipients           []Recipient     `json:"ccRecipients"`
	BccRecipients          []Recipient     `json:"bccRecipients"`
	ReplyTo                []Recipient     `json:"replyTo"`
	Importance             string          `json:"importance"`
	InternetMessageHeaders []MessageHeader `json:"internetMessageHeaders"`
	Attachments            []Attachment    `json:"attachments"`
}

// ItemBody is a message body: contentType "text" or "html".
type ItemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// Recipient is a message recipient.
type Recipient struct {
	EmailAddress EmailAddress `json:"emailAddress"`
}

// EmailAddress is a recipient's name and address.
type EmailAddress struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// MessageHeader is one of a message's internetMessageHeaders.
type MessageHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attachment is a fileAttachment; ContentBytes holds the decoded bytes of
// the base64 contentBytes.
type Attachment struct {
	ODataType    string `json:"@odata.type"`
	Name         string `json:"name"`
	ContentType  string `json:"contentType"`
	ContentBytes []byte `json:"contentBytes"`
	ContentID    string `json:"contentId"`
	IsInline     bool   `json:"isInline"`
}

// TemporaryAccessPass is a pass created through
// POST /users/{id}/authentication/temporaryAccessPassMethods.
type TemporaryAccessPass struct {
	UserID            string
	Pass              string
	Created, Start    time.Time
	LifetimeInMinutes int
	IsUsableOnce      bool
}

// Mail returns the messages accepted so far, in order. With Options.Lean it
// returns nil: see MailCount.
func (s *Server) Mail() []SentMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMail(nil), s.mail...)
}

// MailCount is the number of messages accepted so far.
func (s *Server) MailCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mailCount
}

// TemporaryAccessPasses returns the passes created so far, in order.
func (s *Server) TemporaryAccessPasses() []TemporaryAccessPass {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TemporaryAccessPass(nil), s.passes...)
}

// maxSendMail is the largest sendMail body graphtest accepts. Graph takes
// file attachments of up to 3 MB in a sendMail request, base64 in JSON;
// 4 MB for the whole body is graphtest's approximation of that limit.
const maxSendMail = 4 << 20

// messageProps are the properties of Graph's message resource; any other
// property in a sendMail message is a 400, as in Graph.
var messageProps = map[string]bool{
	"@odata.type": true, "attachments": true, "bccRecipients": true, "body": true, "bodyPreview": true,
	"categories": true, "ccRecipients": true, "changeKey": true, "conversationId": true,
	"conversationIndex": true, "createdDateTime": true, "extensions": true, "flag": true, "from": true,
	"hasAttachments": true, "id": true, "importance": true, "inferenceClassification": true,
	"internetMessageHeaders": true, "internetMessageId": true, "isDeliveryReceiptRequested": true,
	"isDraft": true, "isRead": true, "isReadReceiptRequested": true, "lastModifiedDateTime": true,
	"multiValueExtendedProperties": true, "parentFolderId": true, "receivedDateTime": true, "replyTo": true,
	"sender": true, "sentDateTime": true, "singleValueExtendedProperties": true, "subject": true,
	"toRecipients": true, "uniqueBody": true, "webLink": true,
}

// mailbox resolves the user of a mailbox URL, answering Exchange's errors
// for an unknown user and for a user without a mailbox.
func (s *Server) mailbox(w http.ResponseWriter, r *http.Request, who string) (*person, bool) {
	p, _, ok := s.t.user(who)
	if !ok {
		s.writeError(w, r, &graphError{http.StatusNotFound, "ErrorInvalidUser", fmt.Sprintf("The requested user '%s' is invalid.", who)})
		return nil, false
	}
	if !p.hasMailbox() {
		s.writeError(w, r, &graphError{http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise."})
		return nil, false
	}
	return p, true
}

// sendMail serves POST /users/{id | userPrincipalName}/sendMail: a JSON
// message, or base64 MIME with Content-Type text/plain. It checks the
// request as Graph does and answers 202 with no body.
func (s *Server) sendMail(w http.ResponseWriter, r *http.Request, who string) {
	p, ok := s.mailbox(w, r, who)
	if !ok {
		return
	}
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	if body.Len() > maxSendMail {
		s.writeError(w, r, &graphError{http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("The request body is %d bytes; graphtest, like Graph, takes at most %d in one sendMail (attach larger files through an upload session).", body.Len(), maxSendMail)})
		return
	}
	sent := SentMail{Mailbox: who, UserID: p.id, SaveToSentItems: true, At: s.now()}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		if e := decodeSendMail(body.Bytes(), &sent); e != nil {
			s.writeError(w, r, e)
			return
		}
	case "text/plain":
		clean := strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body.String())
		raw, err := base64.StdEncoding.DecodeString(clean)
		if err != nil || len(raw) == 0 {
			s.writeError(w, r, &graphError{http.StatusBadRequest, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."})
			return
		}
		sent.MIME = raw
	default:
		s.writeError(w, r, &graphError{http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			fmt.Sprintf("Content-Type %q is not supported: send application/json, or text/plain for base64 MIME.", r.Header.Get("Content-Type"))})
		return
	}
	s.mu.Lock()
	s.mailCount++
	if !s.opts.Lean {
		s.mail = append(s.mail, sent)
	}
	s.mu.Unlock()
	s.requestIDs(w, r)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}

// decodeSendMail checks and decodes a JSON sendMail body into sent.
func decodeSendMail(body []byte, sent *SentMail) *graphError {
	bad := func(code, format string, args ...any) *graphError {
		return &graphError{http.StatusBadRequest, code, fmt.Sprintf(format, args...)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return bad("RequestBodyRead", "The request body is not a JSON object: %v", err)
	}
	for k := range top {
		if k != "message" && k != "saveToSentItems" {
			return bad("RequestBodyRead", "The parameter '%s' in the request payload is not a valid parameter for the operation 'sendMail'.", k)
		}
	}
	if v, ok := top["saveToSentItems"]; ok {
		// The documentation's own example sends "false" as a string.
		switch strings.Trim(string(v), `"`) {
		case "true", "True":
		case "false", "False":
			sent.SaveToSentItems = false
		default:
			return bad("RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.Boolean'.", v)
		}
	}
	raw, ok := top["message"]
	if !ok || string(raw) == "null" {
		return bad("ErrorInvalidParameter", "The value of the parameter 'Message' is empty.")
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return bad("RequestBodyRead", "The parameter 'message' is not a message object: %v", err)
	}
	for k := range props {
		if !messageProps[k] && !strings.Contains(k, "@odata.") {
			return bad("RequestBodyRead", "The property '%s' does not exist on type 'microsoft.graph.message'. Make sure to only use property names that are defined by the type.", k)
		}
	}
	m := &sent.Message
	if err := json.Unmarshal(raw, m); err != nil {
		return bad("RequestBodyRead", "Cannot read the message: %v", err)
	}
	if _, ok := props["body"]; ok {
		switch strings.ToLower(m.Body.ContentType) {
		case "text", "html":
		case "":
			m.Body.ContentType = "text"
		default:
			return bad("RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.bodyType'.", m.Body.ContentType)
		}
	}
	all := append(append(append([]Recipient(nil), m.ToRecipients...), m.CcRecipients...), m.BccRecipients...)
	if len(all) == 0 {
		return bad("ErrorInvalidRecipients", "At least one recipient is not valid., A message can't be sent because it contains no recipients.")
	}
	for _, rc := range append(all, m.ReplyTo...) {
		a := rc.EmailAddress.Address
		at := strings.LastIndexByte(a, '@')
		if at <= 0 || at == len(a)-1 || strings.ContainsAny(a, " <>,;") {
			return bad("ErrorInvalidRecipients", "At least one recipient is not valid., Recipient '%s' is not resolved. All recipients must be resolved before a message can be submitted.", a)
		}
	}
	for _, h := range m.InternetMessageHeaders {
		if !strings.HasPrefix(h.Name, "x-") && !strings.HasPrefix(h.Name, "X-") {
			return bad("InvalidInternetMessageHeader", "The internet message header name '%s' should start with 'x-' or 'X-'.", h.Name)
		}
	}
	for i, a := range m.Attachments {
		switch a.ODataType {
		case "#microsoft.graph.fileAttachment":
		case "":
			return bad("ErrorInvalidParameter", "Attachment %d has no @odata.type: give \"#microsoft.graph.fileAttachment\".", i)
		default:
			return &graphError{http.StatusNotImplemented, "NotImplemented", fmt.Sprintf("graphtest takes only #microsoft.graph.fileAttachment, not %s.", a.ODataType)}
		}
		if a.Name == "" {
			return bad("ErrorInvalidParameter", "Attachment %d has no name.", i)
		}
		if a.ContentBytes == nil {
			return bad("ErrorInvalidParameter", "Attachment %d (%s) has no contentBytes.", i, a.Name)
		}
	}
	return nil
}

// windowsZones maps office locations, then countries, to the Windows time
// zone names Exchange reports.
var windowsZones = map[string]string{
	"melbourne": "AUS Eastern Standard Time", "sydney": "AUS Eastern Standard Time",
	"bangalore": "India Standard Time", "pune": "India Standard Time",
	"paris": "Romance Standard Time", "lyon": "Romance Standard Time",
	"munich": "W. Europe Standard Time", "berlin": "W. Europe Standard Time",
	"new york": "Eastern Standard Time", "chicago": "Central Standard Time", "seattle": "Pacific Standard Time",
	"london": "GMT Standard Time", "edinburgh": "GMT Standard Time", "manchester": "GMT Standard Time",
	"tokyo": "Tokyo Standard Time", "amsterdam": "W. Europe Standard Time", "madrid": "Romance Standard Time",
	"AU": "AUS Eastern Standard Time", "IN": "India Standard Time", "FR": "Romance Standard Time",
	"DE": "W. Europe Standard Time", "US": "Eastern Standard Time", "GB": "GMT Standard Time",
	"JP": "Tokyo Standard Time", "NL": "W. Europe Standard Time", "ES": "Romance Standard Time",
	"IT": "W. Europe Standard Time", "CA": "Eastern Standard Time", "BR": "E. South America Standard Time",
	"PL": "Central European Standard Time", "SE": "W. Europe Standard Time",
}

// timeZone is the Windows time zone of p's mailbox.
func (s *Server) timeZone(p *person) string {
	if tz, ok := s.t.timeZones[p.id]; ok {
		return tz
	}
	if tz, ok := windowsZones[strings.ToLower(p.office)]; ok {
		return tz
	}
	if tz, ok := windowsZones[strings.ToUpper(p.usage)]; ok {
		return tz
	}
	return "UTC"
}

// mailboxSettings serves GET /users/{id | userPrincipalName}/mailboxSettings.
func (s *Server) mailboxSettings(w http.ResponseWriter, r *http.Request, who string) {
	if _, e := options(r, nil, []string{"$select", "$expand"}); e != nil {
		s.writeError(w, r, e)
		return
	}
	p, ok := s.mailbox(w, r, who)
	if !ok {
		return
	}
	tz := s.timeZone(p)
	locale := p.language
	if locale == "" {
		locale = "en-US"
	}
	dateFormat, timeFormat := "dd/MM/yyyy", "HH:mm"
	if locale == "en-US" {
		dateFormat, timeFormat = "M/d/yyyy", "h:mm tt"
	}
	start := s.now().UTC().Truncate(24 * time.Hour)
	settings := map[string]any{
		"@odata.context": s.URL() + "/v1.0/$metadata#users('" + p.id + "')/mailboxSettings",
		"archiveFolder":  "",
		"timeZone":       tz,
		"automaticRepliesSetting": map[string]any{
			"status": "disabled", "externalAudience": "all",
			"internalReplyMessage": "", "externalReplyMessage": "",
			"scheduledStartDateTime": map[string]string{"dateTime": start.Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
			"scheduledEndDateTime":   map[string]string{"dateTime": start.Add(24 * time.Hour).Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
		},
		"language":                              map[string]string{"locale": locale, "displayName": locale},
		"dateFormat":                            dateFormat,
		"timeFormat":                            timeFormat,
		"delegateMeetingMessageDeliveryOptions": "sendToDelegateOutlookOnly",
		"userPurpose":                           "user",
		"workingHours": map[string]any{
			"daysOfWeek": []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
			"startTime":  "08:00:00.0000000", "endTime": "17:00:00.0000000",
			"timeZone": map[string]string{"name": tz},
		},
	}
	b, _ := json.Marshal(settings)
	s.writeObject(w, r, http.StatusOK, "", b)
}

// createTAP serves POST /users/{id}/authentication/temporaryAccessPassMethods.
func (s *Server) createTAP(w http.ResponseWriter, r *http.Request, who string) {
	p, _, ok := s.t.user(who)
	if !ok {
		s.writeError(w, r, notFound(who))
		return
	}
	var req struct {
		ODataType         string     `json:"@odata.type"`
		StartDateTime     *time.Time `json:"startDateTime"`
		LifetimeInMinutes *int       `json:"lifetimeInMinutes"`
		IsUsableOnce      *bool      `json:"isUsableOnce"`
	}
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	if body.Len() > 0 {
		dec := json.NewDecoder(&body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Cannot read the temporaryAccessPassAuthenticationMethod: %v", err)})
			return
		}
	}
	// The tenant's Temporary Access Pass policy decides: the method must be
	// enabled, an unset lifetime is its defaultLifetimeInMinutes, a lifetime
	// must lie within its minimum and maximum, and a multi-use pass needs
	// isUsableOnce false there
	// (https://learn.microsoft.com/graph/api/authentication-post-temporaryaccesspassmethods).
	// The error codes and messages are graphtest's: Graph does not
	// document them.
	pol := s.t.tap
	if !pol.enabled {
		s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest",
			"The Temporary Access Pass authentication method is not enabled in the authentication methods policy."})
		return
	}
	now := s.now().UTC()
	tap := TemporaryAccessPass{UserID: p.id, Pass: tapValue(pol.defaultLength), Created: now, Start: now,
		LifetimeInMinutes: pol.defaultLifetime, IsUsableOnce: pol.usableOnce}
	if req.StartDateTime != nil {
		tap.Start = req.StartDateTime.UTC()
	}
	if req.LifetimeInMinutes != nil {
		lo, hi := max(10, pol.min), min(43200, pol.max)
		if *req.LifetimeInMinutes < lo || *req.LifetimeInMinutes > hi {
			s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest",
				fmt.Sprintf("lifetimeInMinutes must be between %d and %d, as the Temporary Access Pass policy allows.", lo, hi)})
			return
		}
		tap.LifetimeInMinutes = *req.LifetimeInMinutes
	}
	if req.IsUsableOnce != nil {
		if !*req.IsUsableOnce && pol.usableOnce {
			s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest",
				"The Temporary Access Pass policy allows only one-time passes (isUsableOnce)."})
			return
		}
		tap.IsUsableOnce = *req.IsUsableOnce
	}
	usable, reason := true, "EnabledByPolicy"
	if tap.Start.After(now) {
		usable, reason = false, "NotYetValid"
	}
	s.mu.Lock()
	s.passes = append(s.passes, tap)
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{
		"@odata.context":        s.URL() + "/v1.0/$metadata#users('" + p.id + "')/authentication/temporaryAccessPassMethods/$entity",
		"@odata.type":           "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
		"id":                    newID(),
		"temporaryAccessPass":   tap.Pass,
		"createdDateTime":       tap.Created.Format(time.RFC3339Nano),
		"startDateTime":         tap.Start.Format(time.RFC3339Nano),
		"lifetimeInMinutes":     tap.LifetimeInMinutes,
		"isUsableOnce":          tap.IsUsableOnce,
		"isUsable":              usable,
		"methodUsabilityReason": reason,
	})
	s.writeObject(w, r, http.StatusCreated, "", b)
}

// tapValue is a random pass of n characters (the policy's defaultLength,
// 8 to 48).
func tapValue(n int) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789+!"
	n = min(max(n, 8), 48)
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
