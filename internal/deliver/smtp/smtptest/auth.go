package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"time"

	"github.com/emersion/go-sasl"
)

// loginServer is the server side of AUTH LOGIN, which go-sasl has only a
// client for: "Username:", then "Password:", each answered in base64.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (a *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch a.step {
	case 0:
		a.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough // the user name came as the initial response
	case 1:
		a.user = string(response)
		a.step = 2
		return []byte("Password:"), false, nil
	case 2:
		a.step = 3
		return nil, true, a.check(a.user, string(response))
	}
	return nil, true, sasl.ErrUnexpectedClientResponse
}

// xoauth2Server is the server side of Google's and Microsoft's XOAUTH2:
// the client sends "user=U\x01auth=Bearer T\x01\x01"; a refused token is
// answered with a JSON error challenge, the client replies with an empty
// line, and only then comes the 535.
type xoauth2Server struct {
	check  func(user, token string) error
	failed error
}

func (a *xoauth2Server) Next(response []byte) ([]byte, bool, error) {
	if a.failed != nil {
		return nil, true, a.failed
	}
	if response == nil {
		return []byte{}, false, nil
	}
	var user, token string
	for field := range bytes.SplitSeq(response, []byte{1}) {
		switch {
		case bytes.HasPrefix(field, []byte("user=")):
			user = string(field[len("user="):])
		case bytes.HasPrefix(field, []byte("auth=Bearer ")):
			token = string(field[len("auth=Bearer "):])
		}
	}
	if err := a.check(user, token); err != nil {
		a.failed = err
		return []byte(`{"status":"401","schemes":"bearer","scope":"https://outlook.office.com/.default"}`), false, nil
	}
	return nil, true, nil
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, valid for a
// day around the real time (TLS clients check the real clock, not the
// server's injected one), and the pool that trusts it.
func selfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, pool, nil
}
