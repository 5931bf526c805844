package alerts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// email sends mail over SMTP: smtp://host:port upgrades to TLS with STARTTLS, which
// the server must offer unless it is on loopback (a local relay); smtps://host:port
// speaks TLS from the start.
type email struct {
	server   *url.URL
	from     string
	to       []string
	username string
	password string
	roots    *x509.CertPool // nil: the system's
	now      func() time.Time
}

// Keys of an email receiver's Secret, besides address (smtp:// or smtps://).
const (
	KeyFrom     = "from"
	KeyTo       = "to"
	KeyUsername = "username"
	KeyPassword = "password"
	// KeyCABundle holds PEM certificates to trust for the server, instead of the system's.
	KeyCABundle = "caBundle"
)

func newEmail(secret map[string][]byte, now func() time.Time) (*email, error) {
	raw := strings.TrimSpace(string(secret[KeyAddress]))
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Port() == "" {
		return nil, fmt.Errorf("key %s must be the mail server as smtp://host:port (STARTTLS) or smtps://host:port (TLS), like smtp://mail.example.com:587", KeyAddress)
	}
	e := &email{server: u, from: strings.TrimSpace(string(secret[KeyFrom])), username: string(secret[KeyUsername]),
		password: string(secret[KeyPassword]), now: now}
	for _, to := range strings.Split(string(secret[KeyTo]), ",") {
		if to = strings.TrimSpace(to); to != "" {
			e.to = append(e.to, to)
		}
	}
	if e.from == "" || len(e.to) == 0 {
		return nil, fmt.Errorf("keys %s and %s must name the sender and the recipients (comma-separated)", KeyFrom, KeyTo)
	}
	if pem := secret[KeyCABundle]; len(pem) > 0 {
		e.roots = x509.NewCertPool()
		if !e.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("key %s holds no PEM certificate", KeyCABundle)
		}
	}
	return e, nil
}

func (e *email) Send(ctx context.Context, m Message) error {
	c, err := e.dial(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if err := e.deliver(c, m); err != nil {
		return fmt.Errorf("%s: %w", e.server.Host, err)
	}
	return c.Quit()
}

// dial connects, with TLS from the start (smtps) or by STARTTLS when offered.
func (e *email) dial(ctx context.Context) (*smtp.Client, error) {
	host := e.server.Hostname()
	tlsConfig := &tls.Config{ServerName: host, RootCAs: e.roots, MinVersion: tls.VersionTLS12}
	d := &net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	var err error
	if e.server.Scheme == "smtps" {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsConfig}).DialContext(ctx, "tcp", e.server.Host)
	} else {
		conn, err = d.DialContext(ctx, "tcp", e.server.Host)
	}
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("%s: %w", e.server.Host, err)
	}
	if e.server.Scheme == "smtps" {
		return c, nil
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return c, nil // a relay on this machine
		}
		_ = c.Close()
		return nil, fmt.Errorf("%s offers no STARTTLS: mail is not sent in the clear; use a server that does, or smtps://", e.server.Host)
	}
	if err := c.StartTLS(tlsConfig); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%s: STARTTLS: %w", e.server.Host, err)
	}
	return c, nil
}

func (e *email) deliver(c *smtp.Client, m Message) error {
	if e.username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.username, e.password, e.server.Hostname())); err != nil {
			return fmt.Errorf("authenticating as the Secret's %s: %w", KeyUsername, err)
		}
	}
	if err := c.Mail(e.from); err != nil {
		return err
	}
	for _, to := range e.to {
		if err := c.Rcpt(to); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(e.mail(m)); err != nil {
		return err
	}
	return w.Close()
}

// mail is the message as RFC 5322 text.
func (e *email) mail(m Message) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", e.from, strings.Join(e.to, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", m.Title()))
	fmt.Fprintf(&b, "Date: %s\r\n", e.now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "X-Flok-Incident: %s\r\n", m.ID())
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(m.Text(), "\n", "\r\n"))
	b.WriteString("\r\n")
	return []byte(b.String())
}
