package alerts

import (
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/api/v1beta1"
)

// mailbox is a real SMTP server on loopback (go-smtp) that takes PLAIN logins of
// user/pass and keeps each mail with its envelope.
type mailbox struct {
	mu    sync.Mutex
	mails []mail
}

type mail struct {
	from string
	to   []string
	data string
	tls  bool
}

type mailSession struct {
	box    *mailbox
	conn   *smtp.Conn
	authed bool
	m      mail
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "flok" || pass != "mail-pa55word" {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.m.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.to = append(s.m.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.m.tls = s.conn.TLSConnectionState()
	s.m.data = string(data)
	s.box.mu.Lock()
	s.box.mails = append(s.box.mails, s.m)
	s.box.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.m = mail{} }
func (s *mailSession) Logout() error { return nil }

// startMailbox serves SMTP on loopback, with STARTTLS offered (or TLS from the start
// when implicit), and returns its address and the PEM of the CA to trust.
func startMailbox(t *testing.T, implicitTLS bool) (*mailbox, string, []byte) {
	box := &mailbox{}
	certs := httptest.NewUnstartedServer(nil) // only for its certificate for 127.0.0.1
	certs.StartTLS()
	tlsConfig := certs.TLS.Clone()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs.Certificate().Raw})
	certs.Close()

	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{box: box, conn: c}, nil }))
	s.Domain, s.TLSConfig, s.AllowInsecureAuth = "localhost", tlsConfig, false
	var l net.Listener
	var err error
	if implicitTLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", tlsConfig)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return box, l.Addr().String(), caPEM
}

// TestEmailOverSTARTTLSAndTLS: the mail reaches a real SMTP server, upgraded by
// STARTTLS or over TLS from the start, authenticated, to every recipient, with the
// incident in its subject and body.
func TestEmailOverSTARTTLSAndTLS(t *testing.T) {
	for _, scheme := range []string{"smtp", "smtps"} {
		box, addr, ca := startMailbox(t, scheme == "smtps")
		secret := map[string][]byte{
			KeyAddress: []byte(scheme + "://" + addr), KeyFrom: []byte("flok@example.com"), KeyTo: []byte("a@example.com, b@example.com"),
			KeyUsername: []byte("flok"), KeyPassword: []byte("mail-pa55word"), KeyCABundle: ca,
		}
		require.NoError(t, send(t, v1beta1.ReceiverEmail, secret, sampleMessage(EventFiring)), scheme)
		require.Len(t, box.mails, 1, scheme)
		m := box.mails[0]
		require.True(t, m.tls, scheme)
		require.Equal(t, "flok@example.com", m.from)
		require.Equal(t, []string{"a@example.com", "b@example.com"}, m.to)
		require.Contains(t, m.data, "Subject: [FIRING] critical JobFailed: FlinkDeployment team/orders")
		require.Contains(t, m.data, "Fix the job and change the spec")

		secret[KeyPassword] = []byte("wrong")
		err := send(t, v1beta1.ReceiverEmail, secret, sampleMessage(EventFiring))
		require.ErrorContains(t, err, "authenticating as the Secret's username")
		require.NotContains(t, err.Error(), "wrong")
	}
}

// TestEmailTrustsOnlyItsCA: without the server's CA, the mail is not sent.
func TestEmailTrustsOnlyItsCA(t *testing.T) {
	_, addr, _ := startMailbox(t, false)
	err := send(t, v1beta1.ReceiverEmail, map[string][]byte{KeyAddress: []byte("smtp://" + addr), KeyFrom: []byte("f@example.com"), KeyTo: []byte("t@example.com")}, sampleMessage(EventFiring))
	require.ErrorContains(t, err, "STARTTLS")
	require.ErrorContains(t, err, "certificate")
}

func TestEmailSecretMistakes(t *testing.T) {
	for secret, want := range map[string]string{
		"address=https://mail.example.com":       "key address must be the mail server as smtp://host:port",
		"address=smtp://mail.example.com:587":    "keys from and to must name the sender and the recipients",
		"address=smtp://m:25,from=a,to=b,ca=bad": "key caBundle holds no PEM certificate",
	} {
		data := map[string][]byte{}
		for _, kv := range strings.Split(secret, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "ca" {
				k = KeyCABundle
			}
			data[k] = []byte(v)
		}
		_, err := NewSender(v1beta1.ReceiverEmail, data, nil)
		require.ErrorContains(t, err, want)
	}
}
