// Package graph reads a Microsoft Entra ID tenant through Microsoft Graph:
// the only package that imports msgraph-sdk-go and azidentity.
//
// A Client signs in with one of the credential kinds an identity engineer
// sets up for nudge's app registration (client secret, certificate, device
// code, Azure CLI, managed identity), in the global cloud or a national
// one, through a proxy and a TLS-inspecting proxy's roots when the network
// needs them. Requests go through the SDK's request adapter and its
// middleware; nudge replaces the SDK's retry handler with its own (see
// retry.go), which paces the identity reports before Graph has to say no,
// waits out every Retry-After and retries transient failures of reads.
//
// Pull saves what nudge reads (users, the registration report, the groups
// the campaign names and the policy targets, the authentication methods
// policy, Conditional Access) as the Graph responses themselves, in the
// snapshot folder format of internal/snapshot, so a live read and a replay
// are the same thing afterwards.
package graph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	textserialization "github.com/microsoft/kiota-serialization-text-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// Config says how to reach the tenant: campaign.yaml's graph: section.
// Paths are as the user wrote them, already resolved against the campaign
// file's folder.
type Config struct {
	TenantID      string
	ClientID      string
	Auth          string // secret, certificate, device-code, azure-cli, managed-identity
	Certificate   string // PEM or PFX file (auth: certificate)
	Cloud         string // global (default), usgov, usgovdod, china
	BaseURL       string // overrides the cloud's Graph endpoint
	AuthorityHost string // overrides the cloud's sign-in authority
	CAFile        string // extra trusted roots (PEM)
}

// Environment variables that carry secrets. They are read through
// Options.Getenv and never written anywhere.
const (
	EnvClientSecret        = "NUDGE_CLIENT_SECRET"
	EnvCertificatePassword = "NUDGE_CERTIFICATE_PASSWORD"
)

// Options are the parts of a Client that are not configuration.
type Options struct {
	// Getenv reads secrets; os.Getenv when nil.
	Getenv func(string) string
	// Prompt receives the device-code sign-in instructions (auth:
	// device-code); standard error when nil.
	Prompt io.Writer
	// Pace turns on request pacing to Graph's documented limits. Off, only
	// the server's own throttling answers (429, 503) slow nudge down.
	Pace bool
	// Retry overrides the retry policy; DefaultRetry when zero.
	Retry RetryPolicy
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// cloudEndpoints are the Graph and sign-in endpoints of each national cloud
// (Microsoft Graph national cloud deployments).
var cloudEndpoints = map[string]struct{ graph, authority string }{
	"global":   {"https://graph.microsoft.com", "https://login.microsoftonline.com/"},
	"usgov":    {"https://graph.microsoft.us", "https://login.microsoftonline.us/"},
	"usgovdod": {"https://dod-graph.microsoft.us", "https://login.microsoftonline.us/"},
	"china":    {"https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn/"},
}

// Client talks to one tenant's Graph.
type Client struct {
	cfg     Config
	adapter *msgraph.GraphRequestAdapter
	base    *url.URL // Graph root, e.g. https://graph.microsoft.com
	retry   *retryHandler
	now     func() time.Time
	tls     *tlsWatch
	cred    azcore.TokenCredential // for tokens to other resources (Token)
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ConfigError is a problem with the graph: section or what it points to,
// with a hint for the user.
type ConfigError struct {
	Msg, Hint string
}

func (e *ConfigError) Error() string { return "graph: " + e.Msg }

func configErr(hint, format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// New checks cfg, loads what it points to and returns a Client. It does not
// sign in: the first request does.
func New(cfg Config, o Options) (*Client, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Prompt == nil {
		o.Prompt = os.Stderr
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if cfg.Auth == "" {
		cfg.Auth = "secret"
	}
	if cfg.Cloud == "" {
		cfg.Cloud = "global"
	}
	ends, ok := cloudEndpoints[cfg.Cloud]
	if !ok {
		return nil, configErr("use global, usgov, usgovdod or china, or set base_url and authority_host", "unknown cloud %q", cfg.Cloud)
	}
	graphURL, authority := ends.graph, ends.authority
	if cfg.BaseURL != "" {
		graphURL = strings.TrimSuffix(strings.TrimSuffix(cfg.BaseURL, "/"), "/v1.0")
	}
	if cfg.AuthorityHost != "" {
		authority = strings.TrimSuffix(cfg.AuthorityHost, "/") + "/"
	}
	base, err := url.Parse(graphURL)
	if err != nil || base.Scheme != "https" || base.Host == "" {
		return nil, configErr("base_url is the Graph root, such as https://graph.microsoft.com", "base_url %q is not an https URL", cfg.BaseURL)
	}
	if u, err := url.Parse(authority); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, configErr("authority_host is the sign-in host, such as https://login.microsoftonline.com/", "authority_host %q is not an https URL", cfg.AuthorityHost)
	}

	needIDs := cfg.Auth != "azure-cli" && cfg.Auth != "managed-identity"
	if needIDs && cfg.TenantID == "" {
		return nil, configErr("set graph.tenant_id in the campaign file: the Directory (tenant) ID on the app registration's Overview page", "tenant_id is missing")
	}
	if needIDs && cfg.ClientID == "" {
		return nil, configErr("set graph.client_id in the campaign file: the Application (client) ID on the app registration's Overview page", "client_id is missing")
	}
	for _, id := range []struct{ name, v string }{{"tenant_id", cfg.TenantID}, {"client_id", cfg.ClientID}} {
		// A tenant may also be named by a verified domain.
		if id.v != "" && !guidPattern.MatchString(id.v) && (id.name == "client_id" || !strings.Contains(id.v, ".")) {
			return nil, configErr("copy it from the app registration's Overview page in the Entra admin center", "%s %q is not a GUID", id.name, id.v)
		}
	}

	t, err := transport(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	parent := &tlsWatch{next: t}
	inner, err := credential(cfg, o, authority, &http.Client{Transport: parent, Timeout: 2 * time.Minute})
	if err != nil {
		return nil, err
	}
	cred := &oneSignIn{cred: inner}

	policy := o.Retry
	if policy == (RetryPolicy{}) {
		policy = DefaultRetry
	}
	rh := newRetryHandler(policy, o.Pace, o.Now)
	opts := msgraph.GetDefaultClientOptions()
	var mw []khttp.Middleware
	for _, m := range core.GetDefaultMiddlewaresWithOptions(&opts) {
		if _, isRetry := m.(khttp.RetryHandler); isRetry {
			m = rh
		} else if _, isRetry := m.(*khttp.RetryHandler); isRetry {
			m = rh
		}
		mw = append(mw, m)
	}
	if !slices.ContainsFunc(mw, func(m khttp.Middleware) bool { return m == khttp.Middleware(rh) }) {
		mw = append([]khttp.Middleware{rh}, mw...)
	}
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, mw...),
		// Never follow a redirect to another host with a token: the SDK's
		// redirect handler decides, the client itself does not.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       3 * time.Minute,
	}
	// Tokens go to the Graph host only, whatever a nextLink says.
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{graphURL + "/.default"}, []string{base.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	// What NewGraphServiceClient would register: JSON (Graph's answers and
	// its error bodies) and text ($count). nudge does not build that
	// client (see request).
	registerSerializers.Do(func() {
		abs.RegisterDefaultSerializer(func() serialization.SerializationWriterFactory {
			return jsonserialization.NewJsonSerializationWriterFactory()
		})
		abs.RegisterDefaultSerializer(func() serialization.SerializationWriterFactory {
			return textserialization.NewTextSerializationWriterFactory()
		})
		abs.RegisterDefaultDeserializer(func() serialization.ParseNodeFactory { return jsonserialization.NewJsonParseNodeFactory() })
		abs.RegisterDefaultDeserializer(func() serialization.ParseNodeFactory { return textserialization.NewTextParseNodeFactory() })
	})
	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	adapter.SetBaseUrl(graphURL + "/v1.0")
	return &Client{
		cfg:     cfg,
		adapter: adapter,
		base:    base,
		retry:   rh,
		now:     o.Now,
		tls:     parent,
		cred:    cred,
	}, nil
}

// transport is the HTTP transport under both the SDK and azidentity:
// proxies from HTTPS_PROXY/NO_PROXY, and the system's roots plus caFile's.
func transport(caFile string) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	// A pull keeps several requests in flight (users, the report, mailbox
	// batches); over HTTP/1.1 (a proxy, a test server) the default of two
	// idle connections a host would close and reopen the rest, a TLS
	// handshake each time.
	t.MaxIdleConnsPerHost = 16
	if caFile == "" {
		return t, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, configErr("ca_file is a PEM bundle of the roots your TLS-inspecting proxy signs with; ask the network team for it", "ca_file: %v", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, configErr("the file must hold PEM certificates (-----BEGIN CERTIFICATE-----); convert a .cer/.der file with: openssl x509 -inform der -in root.cer -out root.pem", "ca_file %s holds no PEM certificate", caFile)
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}

var registerSerializers sync.Once

// oneSignIn lets one token request run at a time. A pull starts several
// requests at once; without it, each would start its own sign-in, and a
// change manager signing in with a device code would be shown one code
// per request. The credential caches the token, so those waiting get it
// without asking again.
type oneSignIn struct {
	mu   sync.Mutex
	cred azcore.TokenCredential
}

func (o *oneSignIn) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cred.GetToken(ctx, opts)
}

// tlsWatch remembers the last certificate that failed verification, on
// the Graph host or the sign-in host alike, so that an error azidentity
// reports only as "unable to resolve an endpoint" can still be explained.
// Such a failure is not worth retrying, and says so to azcore's retry
// policy.
type tlsWatch struct {
	next http.RoundTripper
	last atomic.Pointer[untrustedHost]
}

// untrustedHost is a host whose certificate failed verification.
type untrustedHost struct {
	host string
	err  error
}

func (e *untrustedHost) Error() string { return e.err.Error() }
func (e *untrustedHost) Unwrap() error { return e.err }

// NonRetriable tells azcore's retry policy to give up at once.
func (e *untrustedHost) NonRetriable() {}

func (w *tlsWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(r)
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	if err != nil && (errors.As(err, &unknown) || errors.As(err, &verify) || errors.As(err, &invalid) || errors.As(err, &hostname)) {
		u := &untrustedHost{host: r.URL.Host, err: err}
		w.last.Store(u)
		return nil, u
	}
	return resp, err
}

// credential builds the azidentity credential for cfg.Auth.
func credential(cfg Config, o Options, authority string, hc *http.Client) (azcore.TokenCredential, error) {
	co := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: authority},
		Transport: hc,
	}
	// Instance discovery asks login.microsoft.com whether the authority is
	// genuine; a custom authority (sovereign, private, or a test server)
	// answers for itself.
	noDiscovery := cfg.AuthorityHost != ""
	var (
		cred azcore.TokenCredential
		err  error
	)
	switch cfg.Auth {
	case "secret":
		secret := o.Getenv(EnvClientSecret)
		if secret == "" {
			return nil, configErr("create a client secret under the app registration's Certificates & secrets and put it in the "+EnvClientSecret+" environment variable (never in the campaign file); or use auth: certificate", "auth: secret needs %s", EnvClientSecret)
		}
		cred, err = azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, secret, &azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: noDiscovery})
	case "certificate":
		if cfg.Certificate == "" {
			return nil, configErr("set graph.certificate to the PEM or PFX file holding the app's certificate and private key", "auth: certificate needs a certificate file")
		}
		data, rerr := os.ReadFile(cfg.Certificate)
		if rerr != nil {
			return nil, configErr("set graph.certificate to the PEM or PFX file holding the app's certificate and private key", "certificate: %v", rerr)
		}
		var password []byte
		if pw := o.Getenv(EnvCertificatePassword); pw != "" {
			password = []byte(pw)
		}
		certs, key, perr := azidentity.ParseCertificates(data, password)
		if perr != nil {
			return nil, configErr("the file must hold the certificate and its private key (PEM, or PFX/PKCS#12 with the password in "+EnvCertificatePassword+")", "certificate %s: %v", cfg.Certificate, perr)
		}
		cred, err = azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: noDiscovery, SendCertificateChain: false})
	case "device-code":
		prompt := o.Prompt
		cred, err = azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions:            co,
			TenantID:                 cfg.TenantID,
			ClientID:                 cfg.ClientID,
			DisableInstanceDiscovery: noDiscovery,
			UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
				_, err := fmt.Fprintln(prompt, m.Message)
				return err
			},
		})
	case "azure-cli":
		cred, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: cfg.TenantID})
	case "managed-identity":
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if cfg.ClientID != "" {
			mo.ID = azidentity.ClientID(cfg.ClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(mo)
	default:
		return nil, configErr("use secret, certificate, device-code, azure-cli or managed-identity", "unknown auth %q", cfg.Auth)
	}
	if err != nil {
		return nil, fmt.Errorf("graph: auth %s: %w", cfg.Auth, err)
	}
	return cred, nil
}

// request builds a request for path under Graph's v1.0 root, as the SDK's
// request builders would. nudge sends through the SDK's request adapter
// and middleware but does not link the generated request builders and
// models: through them every Graph type would end up in the binary (text/
// template's reflection keeps every exported method of every type the
// program can reach), 100 MB more for a change manager to download.
func (c *Client) request(method abs.HttpMethod, path string, query url.Values) *abs.RequestInformation {
	ri := abs.NewRequestInformation()
	ri.Method = method
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1.0" + path
	u.RawQuery = query.Encode()
	ri.SetUri(u)
	ri.Headers.TryAdd("Accept", "application/json")
	return ri
}

// get is a GET request for path with query.
func (c *Client) get(path string, query url.Values) *abs.RequestInformation {
	return c.request(abs.GET, path, query)
}

// Requests is the number of HTTP requests sent to Graph so far, retries
// included (sign-in requests are not counted).
func (c *Client) Requests() int { return int(c.retry.requests.Load()) }

// errNotSameHost is returned when Graph hands out a nextLink to another host.
var errNotSameHost = errors.New("graph: a nextLink points away from the Graph host")
