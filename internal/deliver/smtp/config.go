package smtp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config says where and how to send. Its String, GoString, Format and
// LogValue never show the password or a token, so a Config can be printed
// or logged as it is.
type Config struct {
	Host string
	// Port defaults to 587 for starttls, 465 for implicit and 25 for none.
	Port int
	// TLS is "starttls" (the default: the server must offer STARTTLS, or
	// nothing is sent), "implicit" (TLS from the first byte, port 465) or
	// "none" (cleartext, only with AllowInsecure).
	TLS string
	// AllowInsecure must be set for TLS "none": sending in clear is a
	// choice made on purpose, for a relay on a trusted network.
	AllowInsecure bool
	// Auth is "xoauth2" (Exchange Online with an app registration),
	// "plain", "login" or "none" (the default).
	Auth     string
	Username string
	// Password is for plain and login. The caller reads it from the
	// environment; it is never printed or logged.
	Password string
	// Token returns an OAuth access token for xoauth2. It is called for
	// each new connection, so a token that expires is refreshed by the
	// provider, not here.
	Token func(ctx context.Context) (string, error)
	// RootCAs verifies the server's certificate; nil means the system's
	// roots. A caller that loads a ca_file to add to them should start
	// from x509.SystemCertPool, because this pool replaces the system's.
	RootCAs *x509.CertPool
	// HelloName is the name given in EHLO; the machine's host name when
	// empty.
	HelloName string
	// Timeout bounds connecting and each step of a send (one command and
	// its reply, or writing a message); 1 minute when zero.
	Timeout time.Duration
	// EnvelopeFrom is the MAIL FROM address (where bounces go); each
	// message's From address when empty.
	EnvelopeFrom string
}

// Defaults filled in by New.
const (
	defaultTimeout = time.Minute
	defaultTLS     = "starttls"
)

// normalize fills in defaults and checks cfg without touching the
// network, so a bad configuration is reported before any ledger change.
func (cfg Config) normalize() (Config, error) {
	cfg.TLS = strings.ToLower(strings.TrimSpace(cfg.TLS))
	cfg.Auth = strings.ToLower(strings.TrimSpace(cfg.Auth))
	if cfg.TLS == "" {
		cfg.TLS = defaultTLS
	}
	if cfg.Auth == "" {
		cfg.Auth = "none"
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("smtp: "+format, args...)) }

	if cfg.Host == "" {
		bad("no host: set host to the SMTP server's name (smtp.office365.com for Exchange Online)")
	} else if strings.ContainsAny(cfg.Host, " \t\r\n/") || strings.Contains(cfg.Host, ":") && net.ParseIP(cfg.Host) == nil {
		bad("host %q is not a host name (give the port as port)", cfg.Host)
	}
	switch cfg.TLS {
	case "starttls", "implicit":
	case "none":
		if !cfg.AllowInsecure {
			bad("refusing to send in clear: set allow_insecure: true to use tls: none, and only for a relay on a trusted network")
		}
	default:
		bad("tls %q is not starttls, implicit or none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{"starttls": 587, "implicit": 465, "none": 25}[cfg.TLS]
	} else if cfg.Port < 0 || cfg.Port > 65535 {
		bad("port %d is not between 1 and 65535", cfg.Port)
	}
	switch cfg.Auth {
	case "xoauth2":
		if cfg.Token == nil {
			bad("auth xoauth2 needs a token source (an app registration's credential)")
		}
		if cfg.Username == "" && cfg.EnvelopeFrom == "" {
			bad("auth xoauth2 needs username: the mailbox that sends")
		}
	case "plain", "login":
		if cfg.Username == "" {
			bad("auth %s needs a username", cfg.Auth)
		}
		if cfg.Password == "" {
			bad("auth %s needs a password (from the environment)", cfg.Auth)
		}
	case "none":
		if cfg.Username != "" || cfg.Password != "" {
			bad("a username or password is set but auth is none: set auth to plain, login or xoauth2")
		}
	default:
		bad("auth %q is not xoauth2, plain, login or none", cfg.Auth)
	}
	if cfg.Username != "" && strings.ContainsAny(cfg.Username, "\r\n\x00\x01") {
		bad("username has a control character")
	}
	if cfg.EnvelopeFrom != "" {
		if err := checkAddr(cfg.EnvelopeFrom); err != nil {
			bad("envelope_from: %v", err)
		}
	}
	if cfg.HelloName == "" {
		// Some relays score "localhost" as spam; the host name is what
		// other mail clients say.
		cfg.HelloName = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \t\r\n") {
			cfg.HelloName = h
		}
	} else if strings.ContainsAny(cfg.HelloName, " \t\r\n") {
		bad("hello_name %q has a space or line break", cfg.HelloName)
	}
	switch {
	case cfg.Timeout == 0:
		cfg.Timeout = defaultTimeout
	case cfg.Timeout < 0:
		bad("timeout %v is negative", cfg.Timeout)
	}
	return cfg, errors.Join(errs...)
}

// checkAddr accepts a bare address only, the way it goes in MAIL FROM.
func checkAddr(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return fmt.Errorf("%q is not a valid email address", s)
	}
	return nil
}

// addr is host:port.
func (cfg Config) addr() string {
	return hostPort(cfg.Host, cfg.Port)
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") { // an IPv6 literal
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// String describes cfg without its secrets.
func (cfg Config) String() string {
	var b strings.Builder
	b.WriteString("smtp://")
	if cfg.Username != "" {
		b.WriteString(cfg.Username + "@")
	}
	b.WriteString(hostPort(cfg.Host, cfg.Port))
	b.WriteString(" tls=" + cfg.TLS + " auth=" + cfg.Auth)
	if cfg.Password != "" {
		b.WriteString(" password=" + redacted)
	}
	if cfg.Token != nil {
		b.WriteString(" token=" + redacted)
	}
	return b.String()
}

const redacted = "[redacted]"

// GoString is String for %#v, which would otherwise print every field.
func (cfg Config) GoString() string { return "smtp.Config{" + cfg.String() + "}" }

// Format prints String for every verb: without it, %d or %x of a Config
// (or of a struct holding one) would print the password.
func (cfg Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, cfg.GoString())
		return
	}
	fmt.Fprint(f, cfg.String())
}

// LogValue keeps slog's handlers, JSON's included, from printing secrets.
func (cfg Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("host", cfg.Host),
		slog.Int("port", cfg.Port),
		slog.String("tls", cfg.TLS),
		slog.String("auth", cfg.Auth),
	}
	if cfg.Username != "" {
		attrs = append(attrs, slog.String("username", cfg.Username))
	}
	if cfg.Password != "" {
		attrs = append(attrs, slog.String("password", redacted))
	}
	return slog.GroupValue(attrs...)
}
