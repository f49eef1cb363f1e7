package graphtest

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// odataJSON is the Content-Type Graph gives its JSON responses.
const odataJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// graphError is an error response in Graph's shape.
type graphError struct {
	status        int
	code, message string
}

// writeError answers with Graph's error object: error.code, error.message
// and innerError with date, request-id and client-request-id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *graphError) {
	reqID, clientReqID := s.requestIDs(w, r)
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code":    e.code,
		"message": e.message,
		"innerError": map[string]string{
			"date":              s.now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        reqID,
			"client-request-id": clientReqID,
		},
	}})
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.URL()+`/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(body)
}

// requestIDs sets and returns the request-id and client-request-id response
// headers; Graph echoes the client's client-request-id.
func (s *Server) requestIDs(w http.ResponseWriter, r *http.Request) (string, string) {
	reqID := newID()
	clientReqID := r.Header.Get("client-request-id")
	if clientReqID == "" {
		clientReqID = reqID
	}
	w.Header().Set("request-id", reqID)
	w.Header().Set("client-request-id", clientReqID)
	return reqID, clientReqID
}

// writeObject answers 200 (or status) with one JSON object, adding
// @odata.context when it has none.
func (s *Server) writeObject(w http.ResponseWriter, r *http.Request, status int, context string, obj []byte) {
	s.requestIDs(w, r)
	w.Header().Set("Content-Type", odataJSON)
	w.WriteHeader(status)
	if context != "" && !hasContext(obj) {
		w.Write([]byte(`{"@odata.context":`))
		w.Write(jsonString(s.URL() + "/v1.0/$metadata#" + context))
		if len(obj) > 2 {
			w.Write([]byte{','})
		}
		obj = obj[1:]
	}
	w.Write(obj)
}

func hasContext(obj []byte) bool {
	found := false
	scanObject(obj, func(name []byte, _, _ int) error {
		found = string(name) == "@odata.context"
		if found {
			return errStop
		}
		return nil
	})
	return found
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// permission is what an endpoint asks of an app-only token: any one of the
// application permissions its documentation lists, least privileged first,
// and the error Graph answers a token with none of them.
type permission struct {
	any           []string
	code, message string
}

// The permissions of the endpoints graphtest serves, from each endpoint's
// "Permissions" table on https://learn.microsoft.com/graph/api/ (user-list,
// group-list, group-list-transitivemembers,
// authenticationmethodsroot-list-userregistrationdetails,
// authenticationmethodspolicy-get, conditionalaccessroot-list-policies,
// authenticationstrengthroot-list-policies, user-sendmail,
// user-get-mailboxsettings, authentication-post-temporaryaccesspassmethods).
// The error bodies are those Graph gives: directory reads
// (https://github.com/microsoft/opensource-management-portal/issues/161),
// the registration report
// (https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/1852)
// and Exchange; for the policies graphtest picks the body of Graph's
// policy service.
var (
	denied     = "Insufficient privileges to complete the operation."
	permUsers  = permission{[]string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}, "Authorization_RequestDenied", denied}
	permGroups = permission{[]string{"GroupMember.Read.All", "Group.Read.All", "GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		"Authorization_RequestDenied", denied}
	permRegistrations = permission{[]string{"AuditLog.Read.All", "UserAuthenticationMethod.Read.All"},
		"Authentication_MSGraphPermissionMissing", "Calling principal does not have required MSGraph permissions AuditLog.Read.All"}
	permMethodsPolicy = permission{[]string{"Policy.Read.AuthenticationMethod", "Policy.ReadWrite.AuthenticationMethod", "Policy.Read.All"},
		"AccessDenied", "You cannot perform the requested operation, required scopes are missing in the token."}
	permCA = permission{[]string{"Policy.Read.All", "Policy.Read.ConditionalAccess", "Policy.ReadWrite.ConditionalAccess"},
		"AccessDenied", "You cannot perform the requested operation, required scopes are missing in the token."}
	permStrengths = permission{[]string{"Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod", "Policy.ReadWrite.ConditionalAccess"},
		"AccessDenied", "You cannot perform the requested operation, required scopes are missing in the token."}
	permMailSend = permission{[]string{"Mail.Send"}, "ErrorAccessDenied", "Access is denied. Check credentials and try again."}
	permMailbox  = permission{[]string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"}, "ErrorAccessDenied", "Access is denied. Check credentials and try again."}
	permTAP      = permission{[]string{"UserAuthenticationMethod.ReadWrite.All", "UserAuthMethod-TAP.ReadWrite.All"}, "Authorization_RequestDenied", denied}
)

// allows reports whether the token at has one of p's permissions.
func (at accessToken) allows(p permission) bool {
	if at.roles == nil {
		return true
	}
	for _, r := range p.any {
		if at.roles[strings.ToLower(r)] {
			return true
		}
	}
	return false
}

// graph serves /v1.0: it checks the token, throttles, and dispatches.
func (s *Server) graph(w http.ResponseWriter, r *http.Request) {
	at, e := s.id.checkAccess(r)
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	if s.throttled() {
		w.Header().Set("Retry-After", strconv.Itoa(s.opts.RetryAfter))
		s.writeError(w, r, &graphError{http.StatusTooManyRequests, "TooManyRequests",
			"Too many requests: the application is throttled. Retry after the delay given in Retry-After."})
		return
	}
	var seg []string
	for p := range strings.SplitSeq(strings.TrimPrefix(r.URL.Path, "/v1.0/"), "/") {
		if p != "" {
			seg = append(seg, p)
		}
	}
	is := func(i int, name string) bool { return len(seg) > i && strings.EqualFold(seg[i], name) }
	get := r.Method == http.MethodGet
	post := r.Method == http.MethodPost
	// may answers 403 unless the token has one of p's permissions.
	may := func(p permission) bool {
		if at.allows(p) {
			return true
		}
		s.writeError(w, r, &graphError{http.StatusForbidden, p.code, p.message})
		return false
	}
	switch {
	case len(seg) == 0:
		s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", "Resource not found for the segment ''."})

	case len(seg) == 1 && seg[0] == "$batch" && post:
		s.batch(w, r)

	case is(0, "users") && len(seg) == 1 && get:
		if may(permUsers) {
			s.listUsers(w, r)
		}
	case is(0, "users") && len(seg) == 2 && seg[1] == "$count" && get:
		if may(permUsers) {
			s.writeCount(w, r, len(s.t.people))
		}
	case is(0, "users") && len(seg) == 2 && get:
		if may(permUsers) {
			s.getUser(w, r, seg[1])
		}
	case is(0, "users") && len(seg) == 3 && is(2, "sendMail") && post:
		if may(permMailSend) {
			s.sendMail(w, r, seg[1])
		}
	case is(0, "users") && len(seg) == 3 && is(2, "mailboxSettings") && get:
		if may(permMailbox) {
			s.mailboxSettings(w, r, seg[1])
		}
	case is(0, "users") && len(seg) == 4 && is(2, "mailboxSettings") && is(3, "timeZone") && get:
		if may(permMailbox) {
			s.mailboxTimeZone(w, r, seg[1])
		}
	case is(0, "users") && len(seg) == 4 && is(2, "authentication") && is(3, "temporaryAccessPassMethods") && post:
		if may(permTAP) {
			s.createHeldTAP(w, r, seg[1])
		}
	case is(0, "users") && len(seg) == 4 && is(2, "authentication") && is(3, "temporaryAccessPassMethods") && get:
		if may(permTAPRead) {
			s.listTAPs(w, r, seg[1])
		}
	case is(0, "users") && len(seg) == 5 && is(2, "authentication") && is(3, "temporaryAccessPassMethods") && (get || r.Method == http.MethodDelete):
		if get && may(permTAPRead) || !get && may(permTAP) {
			s.tapMethod(w, r, seg[1], seg[4])
		}

	case is(0, "reports") && is(1, "authenticationMethods") && is(2, "userRegistrationDetails") && len(seg) == 3 && get:
		if may(permRegistrations) {
			s.listRegistrations(w, r)
		}
	case is(0, "reports") && is(1, "authenticationMethods") && is(2, "userRegistrationDetails") && len(seg) == 4 && get:
		if may(permRegistrations) {
			s.getRegistration(w, r, seg[3])
		}

	case is(0, "groups") && len(seg) == 1 && get:
		if may(permGroups) {
			s.listGroups(w, r)
		}
	case is(0, "groups") && len(seg) == 2 && seg[1] == "$count" && get:
		if may(permGroups) {
			s.writeCount(w, r, len(s.t.groups.rows))
		}
	case is(0, "groups") && len(seg) == 2 && get:
		if may(permGroups) {
			s.getGroup(w, r, seg[1])
		}
	case is(0, "groups") && is(2, "transitiveMembers") && len(seg) <= 5 && get:
		if may(permGroups) {
			s.transitiveMembers(w, r, seg[1], seg[3:])
		}

	case is(0, "policies") && is(1, "authenticationMethodsPolicy") && len(seg) == 2 && get:
		if may(permMethodsPolicy) {
			s.methodsPolicy(w, r)
		}
	case is(0, "policies") && is(1, "authenticationStrengthPolicies") && len(seg) == 2 && get:
		if may(permStrengths) {
			s.policyList(w, r, "policies/authenticationStrengthPolicies", s.t.strengths)
		}
	case is(0, "identity") && is(1, "conditionalAccess") && is(2, "policies") && len(seg) == 3 && get:
		if may(permCA) {
			s.policyList(w, r, "identity/conditionalAccess/policies", s.t.ca)
		}

	case s.knownPath(seg):
		s.writeError(w, r, &graphError{http.StatusMethodNotAllowed, "Request_BadRequest",
			"Specified HTTP method is not allowed for the request target."})
	default:
		last := seg[len(seg)-1]
		s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("Resource not found for the segment '%s'.", last)})
	}
}

// knownPath reports whether seg is a path graphtest serves with some method.
func (s *Server) knownPath(seg []string) bool {
	p := strings.ToLower(strings.Join(seg, "/"))
	switch {
	case p == "users", p == "groups", p == "$batch",
		p == "reports/authenticationmethods/userregistrationdetails",
		p == "policies/authenticationmethodspolicy",
		p == "policies/authenticationstrengthpolicies",
		p == "identity/conditionalaccess/policies":
		return true
	case len(seg) == 2 && (strings.EqualFold(seg[0], "users") || strings.EqualFold(seg[0], "groups")):
		return true
	case len(seg) == 3 && strings.EqualFold(seg[0], "users"):
		return strings.EqualFold(seg[2], "sendMail") || strings.EqualFold(seg[2], "mailboxSettings")
	case len(seg) == 4 && strings.EqualFold(seg[0], "users") && strings.EqualFold(seg[2]+"/"+seg[3], "mailboxSettings/timeZone"):
		return true
	case (len(seg) == 4 || len(seg) == 5) && strings.EqualFold(seg[0], "users"):
		return strings.EqualFold(seg[2]+"/"+seg[3], "authentication/temporaryAccessPassMethods")
	}
	return false
}

// queryOptions holds the system query options of a request by lower-case
// name ("$select").
type queryOptions map[string]string

// options reads r's system query options and rejects those the endpoint
// does not take. implemented lists what graphtest serves; documented lists
// what Graph supports there but graphtest does not (501, so a test cannot
// pass on an ignored option); anything else is 400 as in Graph.
func options(r *http.Request, implemented, documented []string) (queryOptions, *graphError) {
	q := queryOptions{}
	for k, v := range r.URL.Query() {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "$") {
			continue
		}
		switch {
		case contains(implemented, lk):
			q[lk] = v[0]
		case contains(documented, lk):
			return nil, &graphError{http.StatusNotImplemented, "NotImplemented",
				fmt.Sprintf("graphtest does not implement the query option '%s' on %s.", k, r.URL.Path)}
		default:
			return nil, &graphError{http.StatusBadRequest, "BadRequest",
				fmt.Sprintf("Query option '%s' is not allowed on %s.", k, r.URL.Path)}
		}
	}
	return q, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// pageSize reads $top: Graph's directory lists take 1..999 and page by 100
// without it; graphtest also caps at UserPageMax.
func (s *Server) pageSize(q queryOptions) (int, *graphError) {
	size := 100
	if v, ok := q["$top"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, &graphError{http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid value '%s' for query option $top.", v)}
		}
		if n < 1 || n > 999 {
			return 0, &graphError{http.StatusBadRequest, "Request_UnsupportedQuery",
				fmt.Sprintf("Invalid page size specified: '%d'. Must be between 1 and 999 inclusive.", n)}
		}
		size = n
	}
	return min(size, s.opts.UserPageMax), nil
}

// wantCount reads $count=true, which directory lists take only as an
// advanced query (ConsistencyLevel: eventual). Without the header Graph
// does not refuse the request: it answers 200 and silently leaves
// @odata.count out ("GET /v1.0/users?$count=true" in
// https://learn.microsoft.com/graph/aad-advanced-queries, error handling),
// and so does graphtest.
func wantCount(r *http.Request, q queryOptions) (bool, *graphError) {
	v, ok := q["$count"]
	if !ok || strings.EqualFold(v, "false") {
		return false, nil
	}
	if !strings.EqualFold(v, "true") {
		return false, &graphError{http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid value '%s' for query option $count.", v)}
	}
	return eventual(r), nil
}

// eventual reports whether r asks for advanced queries.
func eventual(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("ConsistencyLevel")), "eventual")
}

// writeCount answers a /$count segment: the number as text/plain when r
// carries ConsistencyLevel: eventual, else the 400 Graph gives
// (https://learn.microsoft.com/graph/api/user-list, example 3; without the
// header: https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/3335).
func (s *Server) writeCount(w http.ResponseWriter, r *http.Request, n int) {
	if _, e := options(r, nil, []string{"$filter", "$search"}); e != nil {
		s.writeError(w, r, e)
		return
	}
	if !eventual(r) {
		s.writeError(w, r, &graphError{http.StatusBadRequest, "Request_BadRequest", "$count is not currently supported."})
		return
	}
	s.requestIDs(w, r)
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	fmt.Fprint(w, n)
}

// skipToken encodes the offset of the next page of the collection at path.
// It is opaque to clients, as Graph's is.
func skipToken(path string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("graphtest:" + strings.ToLower(path) + ":" + strconv.Itoa(offset)))
}

// offset reads $skiptoken for the collection at path.
func offset(path string, q queryOptions) (int, *graphError) {
	tok, ok := q["$skiptoken"]
	if !ok {
		return 0, nil
	}
	bad := &graphError{http.StatusBadRequest, "Request_BadRequest", "The specified $skiptoken is not valid for this request."}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, bad
	}
	prefix := "graphtest:" + strings.ToLower(path) + ":"
	rest, found := strings.CutPrefix(string(raw), prefix)
	if !found {
		return 0, bad
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, bad
	}
	return n, nil
}

// nextLink is the URL of the page at offset next: the request's own query,
// $select and $top included, with a new $skiptoken.
func (s *Server) nextLink(r *http.Request, next int) string {
	var b strings.Builder
	b.WriteString(s.URL())
	b.WriteString(r.URL.EscapedPath())
	sep := byte('?')
	for part := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil && strings.EqualFold(dk, "$skiptoken") {
			continue
		}
		b.WriteByte(sep)
		b.WriteString(part)
		sep = '&'
	}
	b.WriteByte(sep)
	b.WriteString("$skiptoken=")
	b.WriteString(skipToken(r.URL.Path, next))
	return b.String()
}

// page describes one page of a collection response.
type page struct {
	context string // after $metadata#
	count   int    // -1: no @odata.count
	total   int
	start   int
	size    int
	prefix  string             // inserted after each row's '{', e.g. an @odata.type
	row     func(i int) []byte // row i of the collection, a JSON object
}

// writePage streams one page: @odata.context, @odata.count, @odata.nextLink
// when more rows follow, and the rows in "value".
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, p page) {
	s.requestIDs(w, r)
	w.Header().Set("Content-Type", odataJSON)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"@odata.context":`)
	bw.Write(jsonString(s.URL() + "/v1.0/$metadata#" + p.context))
	if p.count >= 0 {
		bw.WriteString(`,"@odata.count":`)
		bw.WriteString(strconv.Itoa(p.count))
	}
	end := min(p.start+p.size, p.total)
	if end < p.total {
		bw.WriteString(`,"@odata.nextLink":`)
		bw.Write(jsonString(s.nextLink(r, end)))
	}
	bw.WriteString(`,"value":[`)
	for i := p.start; i < end; i++ {
		if i > p.start {
			bw.WriteByte(',')
		}
		row := p.row(i)
		if p.prefix != "" {
			bw.WriteByte('{')
			bw.WriteString(p.prefix)
			if len(row) > 2 {
				bw.WriteByte(',')
			}
			bw.Write(row[1:])
		} else {
			bw.Write(row)
		}
	}
	bw.WriteString("]}")
	bw.Flush()
}

// userContext is the @odata.context of users for a $select.
func userContext(set string, q queryOptions, sel selection) string {
	if _, ok := q["$select"]; ok && sel.canon != "*" {
		return set + "(" + q["$select"] + ")"
	}
	return set
}

// userListQuery is what a request for a page of users asks for: /users
// and a group's user members alike.
type userListQuery struct {
	q     queryOptions
	sel   selection
	size  int
	count bool
	start int
}

// userList reads the query options of a request for a page of users.
func (s *Server) userList(r *http.Request) (userListQuery, *graphError) {
	var l userListQuery
	var e *graphError
	l.q, e = options(r, []string{"$select", "$top", "$skiptoken", "$count"}, []string{"$filter", "$search", "$orderby", "$expand"})
	if e == nil {
		l.sel, e = s.t.users.parseSelect(l.q["$select"], true)
	}
	if e == nil {
		l.size, e = s.pageSize(l.q)
	}
	if e == nil {
		l.count, e = wantCount(r, l.q)
	}
	if e == nil {
		l.start, e = offset(r.URL.Path, l.q)
	}
	return l, e
}

// listUsers serves GET /users.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	l, e := s.userList(r)
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	q, sel, size, count, start := l.q, l.sel, l.size, l.count, l.start
	proj := s.t.users.project(sel)
	n := len(s.t.people)
	p := page{context: userContext("users", q, sel), count: -1, total: n, start: start, size: size, row: proj.row}
	if count {
		p.count = n
	}
	s.writePage(w, r, p)
}

// getUser serves GET /users/{id | userPrincipalName}.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request, who string) {
	q, e := options(r, []string{"$select"}, []string{"$expand"})
	var sel selection
	if e == nil {
		sel, e = s.t.users.parseSelect(q["$select"], false)
	}
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	_, i, ok := s.t.user(who)
	if !ok {
		s.writeError(w, r, notFound(who))
		return
	}
	obj := s.t.users.encode(nil, &s.t.users.rows[i], sel)
	s.writeObject(w, r, http.StatusOK, userContext("users", q, sel)+"/$entity", obj)
}

func notFound(id string) *graphError {
	return &graphError{http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)}
}

// listRegistrations serves the userRegistrationDetails report. Its
// documentation lists only $filter and $orderby, so other options are 400.
func (s *Server) listRegistrations(w http.ResponseWriter, r *http.Request) {
	if s.opts.NoPremium {
		s.writeError(w, r, &graphError{http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
			"Neither tenant is B2C or tenant doesn't have premium license"})
		return
	}
	q, e := options(r, []string{"$skiptoken"}, []string{"$filter", "$orderby"})
	start := 0
	if e == nil {
		start, e = offset(r.URL.Path, q)
	}
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	s.writePage(w, r, page{
		context: "reports/authenticationMethods/userRegistrationDetails",
		count:   -1,
		total:   len(s.t.regs),
		start:   start,
		size:    s.opts.RegistrationPage,
		row:     func(i int) []byte { return s.t.regs[i] },
	})
}

// getRegistration serves one user's row of the report.
func (s *Server) getRegistration(w http.ResponseWriter, r *http.Request, id string) {
	if s.opts.NoPremium {
		s.writeError(w, r, &graphError{http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
			"Neither tenant is B2C or tenant doesn't have premium license"})
		return
	}
	if _, e := options(r, nil, nil); e != nil {
		s.writeError(w, r, e)
		return
	}
	i, ok := s.t.regIdx[strings.ToLower(id)]
	if !ok {
		s.writeError(w, r, notFound(id))
		return
	}
	s.writeObject(w, r, http.StatusOK, "reports/authenticationMethods/userRegistrationDetails/$entity", s.t.regs[i])
}

// listGroups serves GET /groups, with $filter=displayName eq '…' (or id eq).
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	q, e := options(r, []string{"$select", "$top", "$skiptoken", "$count", "$filter"}, []string{"$search", "$orderby", "$expand"})
	var sel selection
	if e == nil {
		sel, e = s.t.groups.parseSelect(q["$select"], true)
	}
	size, count, start := 0, false, 0
	if e == nil {
		size, e = s.pageSize(q)
	}
	if e == nil {
		count, e = wantCount(r, q)
	}
	if e == nil {
		start, e = offset(r.URL.Path, q)
	}
	match := func(int) bool { return true }
	if f, ok := q["$filter"]; ok && e == nil {
		match, e = s.groupFilter(f)
	}
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	var rows [][]byte
	for i := range s.t.groups.rows {
		if match(i) {
			rows = append(rows, s.t.groups.encode(nil, &s.t.groups.rows[i], sel))
		}
	}
	p := page{context: userContext("groups", q, sel), count: -1, total: len(rows), start: start, size: size,
		row: func(i int) []byte { return rows[i] }}
	if count {
		p.count = len(rows)
	}
	s.writePage(w, r, p)
}

// groupFilter understands "displayName eq 'x'" and "id eq 'x'", with
// OData's ” for a quote inside the literal. Graph compares directory
// strings without regard to case.
func (s *Server) groupFilter(f string) (func(int) bool, *graphError) {
	prop, rest, _ := strings.Cut(strings.TrimSpace(f), " ")
	op, lit, _ := strings.Cut(strings.TrimSpace(rest), " ")
	lit = strings.TrimSpace(lit)
	if !strings.EqualFold(prop, "displayName") && !strings.EqualFold(prop, "id") || !strings.EqualFold(op, "eq") {
		return nil, &graphError{http.StatusNotImplemented, "NotImplemented",
			fmt.Sprintf("graphtest implements only $filter=displayName eq '…' and id eq '…' on groups, not %q.", f)}
	}
	bad := &graphError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid filter clause: %s", f)}
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return nil, bad
	}
	inner := lit[1 : len(lit)-1]
	if strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
		return nil, bad
	}
	want := strings.ReplaceAll(inner, "''", "'")
	key := s.t.groups.key(prop)
	return func(i int) bool { return strings.EqualFold(s.t.groups.rows[i].str(key), want) }, nil
}

// getGroup serves GET /groups/{id}.
func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, id string) {
	q, e := options(r, []string{"$select"}, []string{"$expand"})
	var sel selection
	if e == nil {
		sel, e = s.t.groups.parseSelect(q["$select"], false)
	}
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	i, ok := s.t.groupIdx[strings.ToLower(id)]
	if !ok {
		s.writeError(w, r, notFound(id))
		return
	}
	s.writeObject(w, r, http.StatusOK, userContext("groups", q, sel)+"/$entity", s.t.groups.encode(nil, &s.t.groups.rows[i], sel))
}

// transitiveMembers serves GET /groups/{id}/transitiveMembers, optionally
// cast (microsoft.graph.user, or graph.user as the Go SDK writes it) and
// with /$count.
func (s *Server) transitiveMembers(w http.ResponseWriter, r *http.Request, id string, rest []string) {
	gi, ok := s.t.groupIdx[strings.ToLower(id)]
	if !ok {
		s.writeError(w, r, notFound(id))
		return
	}
	cast, countOnly := "", false
	if len(rest) > 0 && rest[len(rest)-1] == "$count" {
		countOnly, rest = true, rest[:len(rest)-1]
	}
	if len(rest) > 1 {
		s.writeError(w, r, &graphError{http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", rest[1])})
		return
	}
	if len(rest) == 1 {
		cast = strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(rest[0]), "microsoft."), "graph.")
		switch cast {
		case "user":
		case "group", "device", "orgcontact", "serviceprincipal":
		default:
			s.writeError(w, r, &graphError{http.StatusBadRequest, "Request_UnsupportedQuery",
				fmt.Sprintf("The type cast '%s' is not a supported member type.", rest[0])})
			return
		}
	}
	members := s.t.members[gi]
	if cast != "" && cast != "user" {
		members = nil // graphtest groups hold users only
	}
	if countOnly {
		s.writeCount(w, r, len(members))
		return
	}
	l, e := s.userList(r)
	if e != nil {
		s.writeError(w, r, e)
		return
	}
	q, sel, size, count, start := l.q, l.sel, l.size, l.count, l.start
	proj := s.t.users.project(sel)
	context := "directoryObjects"
	switch {
	case cast == "user":
		context = userContext("users", q, sel)
	case cast != "":
		context = "groups"
	}
	p := page{
		context: context, count: -1, total: len(members), start: start, size: size,
		prefix: `"@odata.type":"#microsoft.graph.user"`,
		row: func(i int) []byte {
			if ui, ok := s.t.userIdx[strings.ToLower(members[i])]; ok {
				return proj.row(ui)
			}
			return []byte(`{"id":` + string(jsonString(members[i])) + `}`)
		},
	}
	if count {
		p.count = len(members)
	}
	s.writePage(w, r, p)
}

// methodsPolicy serves GET /policies/authenticationMethodsPolicy.
func (s *Server) methodsPolicy(w http.ResponseWriter, r *http.Request) {
	if _, e := options(r, nil, []string{"$select", "$expand"}); e != nil {
		s.writeError(w, r, e)
		return
	}
	if s.t.policy == nil {
		s.writeError(w, r, &graphError{http.StatusNotFound, "Request_ResourceNotFound", "graphtest: the tenant has no authentication methods policy."})
		return
	}
	s.writeObject(w, r, http.StatusOK, "authenticationMethodsPolicy", s.t.policy)
}

// policyList serves a small collection in one page.
func (s *Server) policyList(w http.ResponseWriter, r *http.Request, context string, rows [][]byte) {
	if _, e := options(r, nil, []string{"$select", "$top", "$filter", "$count", "$orderby", "$search", "$expand", "$skip"}); e != nil {
		s.writeError(w, r, e)
		return
	}
	s.writePage(w, r, page{context: context, count: -1, total: len(rows), size: len(rows), row: func(i int) []byte { return rows[i] }})
}
