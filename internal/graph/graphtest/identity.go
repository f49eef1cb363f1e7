package graphtest

// Token policy. The token endpoint issues opaque random access tokens and
// remembers them with their expiry; Graph accepts only those. Credentials
// are checked as Entra ID checks them (a client secret, or a client
// assertion JWT signed RS256 or PS256 by the key of the app's certificate,
// with aud the token endpoint, iss and sub the client id, and exp and nbf
// within five minutes of the real clock, the one the client signs with).
// Nothing secret is kept: not the secrets presented, not the assertions,
// not the tokens in the request log.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// identity is the Microsoft identity platform side of the server.
type identity struct {
	s    *Server
	apps map[string]App // by lower-case client id

	mu      sync.Mutex
	tokens  map[string]accessToken
	refresh map[string]grant
	devices map[string]*deviceGrant
	signIn  *person

	keyOnce sync.Once
	key     *rsa.PrivateKey // signs id tokens; made on first use
	kid     string
}

type accessToken struct {
	clientID string
	userID   string          // "" for app-only tokens
	audience string          // audGraph or audExchange
	roles    map[string]bool // application permissions; nil: all
	expires  time.Time
}

// The resources the tenant issues tokens for.
const (
	audGraph    = "graph"
	audExchange = "exchange"
)

type grant struct {
	clientID string
	userID   string
	scope    string
}

type deviceGrant struct {
	grant
	polls   int
	expires time.Time
}

const (
	grantClientCredentials = "client_credentials"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	// grantDeviceCodeShort is the form MSAL (and so azidentity) sends;
	// Entra's v2.0 token endpoint accepts it as well as RFC 8628's URN.
	grantDeviceCodeShort = "device_code"
	grantRefreshToken    = "refresh_token"
	assertionType        = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	clockSkew            = 5 * time.Minute
)

func newIdentity(s *Server, apps []App) *identity {
	id := &identity{
		s:       s,
		apps:    map[string]App{},
		tokens:  map[string]accessToken{},
		refresh: map[string]grant{},
		devices: map[string]*deviceGrant{},
	}
	for _, a := range apps {
		id.apps[strings.ToLower(a.ClientID)] = a
	}
	return id
}

// setSignInUser picks who approves device code sign-ins.
func (id *identity) setSignInUser(who string) error {
	d := id.s.t
	if who != "" {
		p, _, ok := d.user(who)
		if !ok {
			return fmt.Errorf("SignInUser %q is not a user of the tenant", who)
		}
		id.signIn = p
		return nil
	}
	for i := range d.people {
		if p := &d.people[i]; p.enabled && !strings.EqualFold(p.userType, "Guest") {
			id.signIn = p
			return nil
		}
	}
	return nil
}

// serve routes the identity platform endpoints.
func (id *identity) serve(w http.ResponseWriter, r *http.Request) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	path := strings.ToLower(strings.Join(seg[min(1, len(seg)):], "/"))
	switch {
	case len(seg) == 3 && strings.EqualFold(seg[0], "common") && path == "discovery/instance" && r.Method == http.MethodGet:
		id.instanceDiscovery(w, r)
	case path == "v2.0/.well-known/openid-configuration" && r.Method == http.MethodGet:
		id.openIDConfiguration(w, r, seg[0])
	case path == "discovery/v2.0/keys" && r.Method == http.MethodGet:
		id.keys(w, r, seg[0])
	case path == "oauth2/v2.0/token" && r.Method == http.MethodPost:
		id.token(w, r, seg[0])
	case path == "oauth2/v2.0/devicecode" && r.Method == http.MethodPost:
		id.deviceCode(w, r, seg[0])
	default:
		http.NotFound(w, r)
	}
}

// tenantKind says how a tenant path segment names the tenant: "id" for its
// id or one of its domains, "multi" for common and organizations, "" for
// an unknown tenant.
func (id *identity) tenantKind(tenant string) string {
	d := id.s.t
	switch lt := strings.ToLower(tenant); {
	case strings.EqualFold(tenant, d.tenantID), d.domains[lt]:
		return "id"
	case lt == "common", lt == "organizations":
		return "multi"
	}
	return ""
}

// aadError answers with the identity platform's error object.
func (id *identity) aadError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, desc string) {
	now := id.s.now().UTC()
	trace := newID()
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newID()
	}
	body := map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			aadsts, desc, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{aadsts},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      fmt.Sprintf("%s/error?code=%d", id.s.URL(), aadsts),
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	w.Write(b)
}

func (id *identity) unknownTenant(w http.ResponseWriter, r *http.Request, tenant string) {
	id.aadError(w, r, http.StatusBadRequest, "invalid_tenant", 90002,
		fmt.Sprintf("Tenant '%s' not found. Check that the tenant ID is right and that you sign in to the right cloud.", tenant))
}

// openIDConfiguration serves the tenant's OpenID Connect discovery document.
func (id *identity) openIDConfiguration(w http.ResponseWriter, r *http.Request, tenant string) {
	kind := id.tenantKind(tenant)
	if kind == "" {
		id.unknownTenant(w, r, tenant)
		return
	}
	base := id.s.URL()
	issuerTenant := id.s.t.tenantID
	if kind == "multi" {
		issuerTenant = "{tenantid}"
	}
	t := base + "/" + tenant
	u, _ := url.Parse(base)
	writeJSON(w, http.StatusOK, struct {
		TokenEndpoint                string   `json:"token_endpoint"`
		TokenAuthMethods             []string `json:"token_endpoint_auth_methods_supported"`
		JWKSURI                      string   `json:"jwks_uri"`
		ResponseModes                []string `json:"response_modes_supported"`
		SubjectTypes                 []string `json:"subject_types_supported"`
		IDTokenAlgs                  []string `json:"id_token_signing_alg_values_supported"`
		ResponseTypes                []string `json:"response_types_supported"`
		Scopes                       []string `json:"scopes_supported"`
		Issuer                       string   `json:"issuer"`
		RequestURIParameterSupported bool     `json:"request_uri_parameter_supported"`
		UserInfoEndpoint             string   `json:"userinfo_endpoint"`
		AuthorizationEndpoint        string   `json:"authorization_endpoint"`
		DeviceAuthorizationEndpoint  string   `json:"device_authorization_endpoint"`
		HTTPLogoutSupported          bool     `json:"http_logout_supported"`
		FrontchannelLogoutSupported  bool     `json:"frontchannel_logout_supported"`
		EndSessionEndpoint           string   `json:"end_session_endpoint"`
		Claims                       []string `json:"claims_supported"`
		KerberosEndpoint             string   `json:"kerberos_endpoint"`
		TenantRegionScope            *string  `json:"tenant_region_scope"`
		CloudInstanceName            string   `json:"cloud_instance_name"`
		CloudGraphHostName           string   `json:"cloud_graph_host_name"`
		MSGraphHost                  string   `json:"msgraph_host"`
		RBACURL                      string   `json:"rbac_url"`
	}{
		TokenEndpoint:               t + "/oauth2/v2.0/token",
		TokenAuthMethods:            []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		JWKSURI:                     t + "/discovery/v2.0/keys",
		ResponseModes:               []string{"query", "fragment", "form_post"},
		SubjectTypes:                []string{"pairwise"},
		IDTokenAlgs:                 []string{"RS256"},
		ResponseTypes:               []string{"code", "id_token", "code id_token", "id_token token"},
		Scopes:                      []string{"openid", "profile", "email", "offline_access"},
		Issuer:                      base + "/" + issuerTenant + "/v2.0",
		UserInfoEndpoint:            base + "/oidc/userinfo",
		AuthorizationEndpoint:       t + "/oauth2/v2.0/authorize",
		DeviceAuthorizationEndpoint: t + "/oauth2/v2.0/devicecode",
		HTTPLogoutSupported:         true,
		FrontchannelLogoutSupported: true,
		EndSessionEndpoint:          t + "/oauth2/v2.0/logout",
		Claims: []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
			"ver", "at_hash", "c_hash", "email"},
		KerberosEndpoint:   t + "/kerberos",
		CloudInstanceName:  "microsoftonline.com",
		CloudGraphHostName: "graph.windows.net",
		MSGraphHost:        u.Host,
		RBACURL:            "https://pas.windows.net",
	})
}

// instanceDiscovery answers MSAL's instance discovery for this host.
func (id *identity) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	tenant := "common"
	if ae, err := url.Parse(r.URL.Query().Get("authorization_endpoint")); err == nil {
		if first, _, _ := strings.Cut(strings.TrimPrefix(ae.Path, "/"), "/"); first != "" {
			tenant = first
		}
	}
	u, _ := url.Parse(id.s.URL())
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": id.s.URL() + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": u.Host,
			"preferred_cache":   u.Host,
			"aliases":           []string{u.Host},
		}},
	})
}

// keys serves the JSON Web Key Set that id tokens are signed with.
func (id *identity) keys(w http.ResponseWriter, r *http.Request, tenant string) {
	if id.tenantKind(tenant) == "" {
		id.unknownTenant(w, r, tenant)
		return
	}
	key, kid := id.signingKey()
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": kid,
		"n":      base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e":      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		"issuer": id.s.URL() + "/" + id.s.t.tenantID + "/v2.0",
	}}})
}

func (id *identity) signingKey() (*rsa.PublicKey, string) {
	id.keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		id.key = k
		id.kid = newID()
	})
	return &id.key.PublicKey, id.kid
}

// token serves POST /{tenant}/oauth2/v2.0/token.
func (id *identity) token(w http.ResponseWriter, r *http.Request, tenant string) {
	kind := id.tenantKind(tenant)
	if kind == "" {
		id.unknownTenant(w, r, tenant)
		return
	}
	if err := r.ParseForm(); err != nil {
		id.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded.")
		return
	}
	form := r.PostForm
	tr := TokenRequest{Grant: form.Get("grant_type"), ClientID: form.Get("client_id"), Scope: form.Get("scope")}
	defer func() { id.s.setToken(r, tr) }()

	switch tr.Grant {
	case grantClientCredentials:
		if kind != "id" {
			id.aadError(w, r, http.StatusBadRequest, "invalid_request", 50059,
				"No tenant-identifying information found in either the request or implied by any provided credentials.")
			return
		}
		secret, hasSecret := form.Get("client_secret"), form.Has("client_secret")
		if user, pass, ok := r.BasicAuth(); ok {
			// RFC 6749 section 2.3.1: both are form-encoded first.
			u, _ := url.QueryUnescape(user)
			p, _ := url.QueryUnescape(pass)
			tr.ClientID, secret, hasSecret = u, p, true
		}
		app, ok := id.app(w, r, tr.ClientID)
		if !ok {
			return
		}
		resource, ok := clientCredentialScope(tr.Scope)
		if !ok {
			id.aadError(w, r, http.StatusBadRequest, "invalid_scope", 1002012,
				fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", tr.Scope))
			return
		}
		// Graph and Exchange Online (SMTP XOAUTH2) are the resources this
		// tenant knows: a token for another one is refused as Entra refuses
		// an unknown resource
		// (https://learn.microsoft.com/entra/identity-platform/reference-error-codes,
		// AADSTS500011), rather than issued and then accepted by Graph.
		aud := id.audience(resource)
		if aud == "" {
			id.aadError(w, r, http.StatusBadRequest, "invalid_resource", 500011,
				fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, id.s.t.tenantID))
			return
		}
		switch {
		case hasSecret:
			tr.Credential = "client_secret"
			if app.Secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(app.Secret)) != 1 {
				id.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000215,
					fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.ClientID))
				return
			}
		case form.Has("client_assertion"):
			tr.Credential = "client_assertion"
			if form.Get("client_assertion_type") != assertionType {
				id.aadError(w, r, http.StatusBadRequest, "invalid_request", 90014,
					"The required field 'client_assertion_type' is missing or is not "+assertionType+".")
				return
			}
			if code, msg := id.verifyAssertion(app, form.Get("client_assertion"), id.s.URL()+r.URL.Path); code != 0 {
				id.aadError(w, r, http.StatusUnauthorized, "invalid_client", code, msg)
				return
			}
		default:
			id.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000218,
				"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
			return
		}
		tr.OK = true
		tok, life := id.issue(app.ClientID, "", aud, app.Roles)
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": tok,
		})

	case grantDeviceCode, grantDeviceCodeShort:
		tr.Credential = "device_code"
		id.mu.Lock()
		dev, ok := id.devices[form.Get("device_code")]
		if ok {
			dev.polls++
		}
		id.mu.Unlock()
		switch {
		case !ok || !strings.EqualFold(dev.clientID, tr.ClientID):
			id.aadError(w, r, http.StatusBadRequest, "bad_verification_code", 70000, "The provided device code is not valid for this client.")
		case id.s.now().After(dev.expires):
			id.aadError(w, r, http.StatusBadRequest, "expired_token", 70019, "Verification code expired.")
		case dev.polls == 1:
			id.aadError(w, r, http.StatusBadRequest, "authorization_pending", 70016,
				"OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
		default:
			id.mu.Lock()
			delete(id.devices, form.Get("device_code"))
			id.mu.Unlock()
			tr.OK = true
			id.userTokens(w, r, dev.grant)
		}

	case grantRefreshToken:
		tr.Credential = "refresh_token"
		id.mu.Lock()
		g, ok := id.refresh[form.Get("refresh_token")]
		if ok && strings.EqualFold(g.clientID, tr.ClientID) {
			delete(id.refresh, form.Get("refresh_token"))
		}
		id.mu.Unlock()
		if !ok || !strings.EqualFold(g.clientID, tr.ClientID) {
			id.aadError(w, r, http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. The refresh token is malformed or was not issued to this client.")
			return
		}
		if tr.Scope != "" {
			g.scope = tr.Scope
		}
		tr.OK = true
		id.userTokens(w, r, g)

	case "":
		id.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	default:
		id.aadError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'.", tr.Grant))
	}
}

// app finds a registered app, answering the error Entra ID gives otherwise.
func (id *identity) app(w http.ResponseWriter, r *http.Request, clientID string) (App, bool) {
	if clientID == "" {
		id.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return App{}, false
	}
	app, ok := id.apps[strings.ToLower(clientID)]
	if !ok {
		id.aadError(w, r, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, id.s.t.tenantID))
	}
	return app, ok
}

// issue makes an access token and returns it with its lifetime in seconds.
// roles are the application permissions of an app-only token; nil grants
// all.
func (id *identity) issue(clientID, userID, aud string, roles []string) (string, int) {
	tok := randomToken()
	life := id.s.opts.TokenLifetime
	at := accessToken{clientID: clientID, userID: userID, audience: aud, expires: id.s.now().Add(life)}
	if roles != nil {
		at.roles = map[string]bool{}
		for _, r := range roles {
			at.roles[strings.ToLower(r)] = true
		}
	}
	id.mu.Lock()
	id.tokens[tok] = at
	id.mu.Unlock()
	return tok, int(life / time.Second)
}

// resources are the names of the resources the tenant issues tokens for:
// Microsoft Graph (application ID URI in each cloud, and application id)
// and Exchange Online (for SMTP XOAUTH2).
var resources = map[string]string{
	"https://graph.microsoft.com":             audGraph,
	"https://graph.microsoft.us":              audGraph,
	"https://dod-graph.microsoft.us":          audGraph,
	"https://microsoftgraph.chinacloudapi.cn": audGraph,
	"00000003-0000-0000-c000-000000000000":    audGraph,
	"https://outlook.office365.com":           audExchange,
	"https://outlook.office365.us":            audExchange,
	"https://outlook-dod.office365.us":        audExchange,
	"https://partner.outlook.cn":              audExchange,
	"00000002-0000-0ff1-ce00-000000000000":    audExchange,
}

// audience is what resource names: Graph for the server itself (the Graph
// base URL tests give the SDK) and Graph's own names, Exchange Online for
// its names, "" for anything else.
func (id *identity) audience(resource string) string {
	resource = strings.ToLower(strings.TrimSuffix(resource, "/"))
	if resource == strings.ToLower(id.s.URL()) {
		return audGraph
	}
	return resources[resource]
}

// delegatedAudience is the resource of a delegated grant's scope: the one
// named by a ".../.default" or URL scope, else Graph, whose bare scope
// names ("User.Read") need no prefix.
func (id *identity) delegatedAudience(scope string) string {
	for sc := range strings.FieldsSeq(scope) {
		if i := strings.LastIndexByte(sc, '/'); i > 0 {
			if aud := id.audience(sc[:i]); aud != "" {
				return aud
			}
		}
	}
	return audGraph
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// userTokens answers a delegated sign-in: access, refresh and id tokens and
// the client_info MSAL builds the account from.
func (id *identity) userTokens(w http.ResponseWriter, r *http.Request, g grant) {
	p := id.signInFor(g.userID)
	tok, life := id.issue(g.clientID, p.id, id.delegatedAudience(g.scope), nil)
	rt := randomToken()
	id.mu.Lock()
	id.refresh[rt] = grant{clientID: g.clientID, userID: p.id, scope: g.scope}
	id.mu.Unlock()
	var granted []string
	for sc := range strings.FieldsSeq(g.scope) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
		default:
			granted = append(granted, sc)
		}
	}
	info, _ := json.Marshal(map[string]string{"uid": p.id, "utid": id.s.t.tenantID})
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(granted, " "),
		"expires_in":     life,
		"ext_expires_in": life,
		"access_token":   tok,
		"refresh_token":  rt,
		"id_token":       id.idToken(g.clientID, p),
		"client_info":    base64.RawURLEncoding.EncodeToString(info),
	})
}

// signInFor returns the user a delegated grant is for.
func (id *identity) signInFor(userID string) *person {
	if p, _, ok := id.s.t.user(userID); ok && userID != "" {
		return p
	}
	if id.signIn != nil {
		return id.signIn
	}
	return &person{id: newID(), upn: "signin@" + id.s.t.tenantID, displayName: "Sign-in User"}
}

// idToken is an RS256-signed OpenID Connect id token for p.
func (id *identity) idToken(clientID string, p *person) string {
	_, kid := id.signingKey()
	now := id.s.now()
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": kid})
	claims, _ := json.Marshal(map[string]any{
		"aud": clientID, "iss": id.s.URL() + "/" + id.s.t.tenantID + "/v2.0",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"name": p.displayName, "oid": p.id, "preferred_username": p.upn, "sub": p.id,
		"tid": id.s.t.tenantID, "ver": "2.0",
	})
	signed := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	h := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, id.key, crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// deviceCode serves POST /{tenant}/oauth2/v2.0/devicecode. The code is
// approved by SignInUser after the first poll, which gets
// authorization_pending.
func (id *identity) deviceCode(w http.ResponseWriter, r *http.Request, tenant string) {
	if id.tenantKind(tenant) == "" {
		id.unknownTenant(w, r, tenant)
		return
	}
	if err := r.ParseForm(); err != nil {
		id.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded.")
		return
	}
	clientID := r.PostForm.Get("client_id")
	app, ok := id.app(w, r, clientID)
	if !ok {
		return
	}
	scope := r.PostForm.Get("scope")
	if strings.TrimSpace(scope) == "" {
		id.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return
	}
	code := randomToken()
	user := userCode()
	userID := ""
	if id.signIn != nil {
		userID = id.signIn.id
	}
	id.mu.Lock()
	id.devices[code] = &deviceGrant{grant: grant{clientID: app.ClientID, userID: userID, scope: scope}, expires: id.s.now().Add(15 * time.Minute)}
	id.mu.Unlock()
	verify := id.s.URL() + "/devicelogin"
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code":        user,
		"device_code":      code,
		"verification_uri": verify,
		"expires_in":       900,
		"interval":         5,
		"message":          fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, user),
	})
}

func userCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b [9]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// verifyAssertion checks a client assertion as Entra ID does. It returns
// the AADSTS code and description of the first problem, or 0.
func (id *identity) verifyAssertion(app App, assertion, endpoint string) (int, string) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return 50027, "Invalid JWT token: the client assertion is not a signed JWT (header.payload.signature)."
	}
	var header struct {
		Alg  string `json:"alg"`
		X5t  string `json:"x5t"`
		X5tS string `json:"x5t#S256"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return 50027, "Invalid JWT token: the client assertion header is not base64url-encoded JSON."
	}
	if app.Certificate == nil {
		return 700027, fmt.Sprintf("The application '%s' has no certificate registered to verify a client assertion.", app.ClientID)
	}
	cert := app.Certificate
	s256 := sha256.Sum256(cert.Raw)
	s1 := sha1.Sum(cert.Raw)
	switch {
	case header.X5tS != "" && !thumbprintIs(header.X5tS, s256[:]),
		header.X5t != "" && !thumbprintIs(header.X5t, s1[:]):
		return 700027, "The certificate with identifier used to sign the client assertion is not registered on the application. The key was not found."
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return 700027, "The certificate registered on the application does not hold an RSA key."
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return 700027, "Client assertion contains an invalid signature."
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch header.Alg {
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	default:
		return 50027, fmt.Sprintf("Invalid JWT token: the client assertion algorithm '%s' is not supported (use PS256 or RS256).", header.Alg)
	}
	if err != nil {
		return 700027, "Client assertion contains an invalid signature."
	}
	var claims struct {
		Aud audience    `json:"aud"`
		Iss string      `json:"iss"`
		Sub string      `json:"sub"`
		Exp json.Number `json:"exp"`
		Nbf json.Number `json:"nbf"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return 50027, "Invalid JWT token: the client assertion payload is not base64url-encoded JSON."
	}
	if !claims.Aud.has(endpoint) {
		return 50027, fmt.Sprintf("Invalid JWT token: the client assertion audience %v is not the token endpoint %s.", []string(claims.Aud), endpoint)
	}
	if !strings.EqualFold(claims.Iss, app.ClientID) || !strings.EqualFold(claims.Sub, app.ClientID) {
		return 50027, "Invalid JWT token: the client assertion's iss and sub must both be the client id."
	}
	now := time.Now()
	exp, expErr := claims.Exp.Int64()
	nbf, nbfErr := claims.Nbf.Int64()
	if expErr != nil || now.After(time.Unix(exp, 0).Add(clockSkew)) || nbfErr == nil && now.Add(clockSkew).Before(time.Unix(nbf, 0)) {
		return 700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.",
			now.UTC().Format(time.RFC3339), time.Unix(nbf, 0).UTC().Format(time.RFC3339), time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return 0, ""
}

// thumbprintIs compares a JWT thumbprint header with a digest. MSAL Go
// writes it in standard base64, RFC 7515 in base64url: both are accepted.
func thumbprintIs(v string, digest []byte) bool {
	return v == base64.RawURLEncoding.EncodeToString(digest) || v == base64.URLEncoding.EncodeToString(digest) ||
		v == base64.StdEncoding.EncodeToString(digest) || v == base64.RawStdEncoding.EncodeToString(digest)
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return dec.Decode(v)
}

// audience is a JWT aud claim: a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = []string{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*a = many
	return err
}

func (a audience) has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

// checkAccess checks the bearer token of a Graph request and returns it.
func (id *identity) checkAccess(r *http.Request) (accessToken, *graphError) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return accessToken{}, &graphError{http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty."}
	}
	id.mu.Lock()
	at, ok := id.tokens[tok]
	id.mu.Unlock()
	switch {
	case !ok:
		return at, &graphError{http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure: the token was not issued by this server."}
	case id.s.now().After(at.expires):
		return at, &graphError{http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."}
	case at.audience != audGraph:
		return at, &graphError{http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience."}
	}
	return at, nil
}

// clientCredentialScope returns the one resource scope names with the
// /.default suffix, and false when it names none, several, or a scope
// without the suffix. Like Entra, it ignores the OpenID Connect scopes
// (openid, offline_access, profile) that MSAL adds to every request.
func clientCredentialScope(scope string) (string, bool) {
	var resource string
	n := 0
	for sc := range strings.FieldsSeq(scope) {
		switch sc {
		case "openid", "offline_access", "profile":
			continue
		}
		r, ok := strings.CutSuffix(sc, "/.default")
		if !ok {
			return "", false
		}
		resource = r
		n++
	}
	return resource, n == 1
}
