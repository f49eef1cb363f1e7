package graph

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Error is a failed Graph request, explained: what nudge asked for, what
// Graph answered, and what the user can do about it.
type Error struct {
	Op      string // e.g. "GET /users"
	Status  int    // HTTP status, 0 when no answer came
	Code    string // Graph's error code, e.g. Authorization_RequestDenied
	Message string // Graph's message
	Hint    string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	} else if e.Status == 0 && e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Permissions Microsoft Graph documents for each read and write nudge makes
// (application permissions; each needs admin consent).
const (
	PermUsers         = "User.Read.All"
	PermRegistrations = "AuditLog.Read.All"
	PermGroups        = "GroupMember.Read.All"
	PermMethodsPolicy = "Policy.Read.AuthenticationMethod"
	PermPolicies      = "Policy.Read.All"
	PermMailSend      = "Mail.Send"
	PermTAP           = "UserAuthenticationMethod.ReadWrite.All"
	PermMailbox       = "MailboxSettings.Read"
)

// nonPremium is Graph's code when a report needs Entra ID P1 or P2.
const nonPremium = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"

// explain turns an SDK or azidentity error into an *Error with a hint.
// perm is the permission the request needs.
func (c *Client) explain(op, perm string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Op: op, Err: err}
	if u := c.tls.last.Load(); u != nil && !errors.As(err, new(*odataerrors.ODataError)) {
		e.Message = u.Error()
		e.Hint = "the TLS certificate of " + u.host + " is not trusted: behind a TLS-inspecting proxy, set graph.ca_file in the campaign file to a PEM file of the proxy's root certificates (ask the network team for it)"
		return e
	}
	var auth *azidentity.AuthenticationFailedError
	var unavailable *azidentity.AuthenticationRequiredError
	var odata *odataerrors.ODataError
	var api *abs.ApiError
	switch {
	case errors.As(err, &auth):
		e.Op = op + ": signing in"
		if auth.RawResponse != nil {
			e.Status = auth.RawResponse.StatusCode
		}
		e.Code, e.Message = aadsts(err.Error())
		e.Hint = c.signInHint(e.Code)
		return e
	case errors.As(err, &unavailable):
		e.Op = op + ": signing in"
		e.Hint = c.signInHint("")
		return e
	case errors.As(err, &odata):
		e.Status = odata.GetStatusCode()
		if m := odata.GetErrorEscaped(); m != nil {
			if s := m.GetCode(); s != nil {
				e.Code = *s
			}
			if s := m.GetMessage(); s != nil {
				e.Message = *s
			}
		}
	case errors.As(err, &api):
		e.Status = api.ResponseStatusCode
	default:
		if strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "certificate") {
			e.Hint = "the TLS certificate of " + c.base.Host + " is not trusted: behind a TLS-inspecting proxy, set graph.ca_file to a PEM file of the proxy's root certificates"
			e.Message = err.Error()
			return e
		}
		var cfg *ConfigError
		if errors.As(err, &cfg) {
			return err
		}
		if strings.Contains(err.Error(), "credential") || strings.Contains(err.Error(), "az login") || strings.Contains(err.Error(), "ManagedIdentity") {
			e.Op = op + ": signing in"
			e.Message = firstLine(err.Error())
			e.Hint = c.signInHint("")
			return e
		}
		e.Message = firstLine(err.Error())
		e.Hint = "check the network path to " + c.base.Host + " (proxy settings come from HTTPS_PROXY and NO_PROXY) and try again"
		return e
	}
	switch {
	case e.Status == http.StatusForbidden && e.Code == nonPremium:
		e.Hint = "the registration report needs Microsoft Entra ID P1 or P2 on the tenant; without it, download the User registration details CSV from the Entra admin center and use --source csv:FILE"
	case e.Status == http.StatusForbidden:
		e.Hint = fmt.Sprintf("the app needs the %s application permission: Entra admin center > App registrations > (nudge's app) > API permissions > Add a permission > Microsoft Graph > Application permissions > %s, then Grant admin consent (a Privileged Role Administrator or Global Administrator must consent)", perm, perm)
	case e.Status == http.StatusUnauthorized:
		e.Hint = fmt.Sprintf("Graph did not accept nudge's token for tenant %s: check graph.tenant_id and graph.client_id, and that the app was granted %s with admin consent", c.cfg.TenantID, perm)
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
		e.Hint = "Graph kept throttling nudge after every retry: run again later (a pull resumes from nothing, but nothing half-written is kept)"
	case e.Status >= 500:
		e.Hint = "Graph failed on its side after retries: run again later"
	}
	return e
}

var aadstsPattern = regexp.MustCompile(`(AADSTS\d+):?\s*([^\r\n]*)`)

// aadsts finds the AADSTS code and its message in an azidentity error.
func aadsts(s string) (code, msg string) {
	if m := aadstsPattern.FindStringSubmatch(s); m != nil {
		msg = m[2]
		// Entra appends "Trace ID: … Correlation ID: … Timestamp: …" after
		// a line break, escaped (\r\n) in the JSON azidentity quotes.
		for _, end := range []string{`\r\n`, "\r\n", "\n", " Trace ID:"} {
			if i := strings.Index(msg, end); i >= 0 {
				msg = msg[:i]
			}
		}
		return m[1], strings.TrimSpace(strings.Trim(msg, `",`))
	}
	return "", firstLine(s)
}

// signInHint says what to check when signing in failed, by AADSTS code.
func (c *Client) signInHint(code string) string {
	who := fmt.Sprintf("app %s in tenant %s", c.cfg.ClientID, c.cfg.TenantID)
	switch code {
	case "AADSTS7000215":
		return "the client secret in " + EnvClientSecret + " is not a current secret of " + who + ": copy the secret's Value (not its ID) from Certificates & secrets"
	case "AADSTS7000222":
		return "the client secret of " + who + " has expired: create a new one under Certificates & secrets and update " + EnvClientSecret
	case "AADSTS700016":
		return "no application " + c.cfg.ClientID + " exists in tenant " + c.cfg.TenantID + ": check graph.client_id and graph.tenant_id"
	case "AADSTS90002", "AADSTS900023":
		return "tenant " + c.cfg.TenantID + " was not found: check graph.tenant_id (and graph.cloud for a national cloud)"
	case "AADSTS700027", "AADSTS700024":
		return "the certificate in " + c.cfg.Certificate + " is not registered on " + who + ": upload its public part under Certificates & secrets"
	}
	switch c.cfg.Auth {
	case "azure-cli":
		return "run az login (with --tenant " + c.cfg.TenantID + ") as someone allowed to read the tenant, then try again"
	case "managed-identity":
		return "this machine has no managed identity, or it was not granted Graph permissions: see the README's managed identity section"
	case "device-code":
		return "the device-code sign-in did not complete: run again and finish it in the browser within 15 minutes"
	}
	return "check graph.tenant_id, graph.client_id and the " + c.cfg.Auth + " credential of " + who
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
