package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flok-dev/flok/api/v1beta1"
)

// Sender sends messages to one receiver.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// The keys of a receiver's Secret.
const (
	KeyAddress    = "address"
	KeyHMACKey    = "hmacKey"
	KeyRoutingKey = "routingKey"
	// KeySigningSecret is the secret DingTalk and Lark robots check signatures with.
	KeySigningSecret = "signingSecret"
)

// NewSender makes the sender of a receiver of kind typ from its Secret's data. An
// error names the Secret's key that is missing or wrong and what it should hold,
// never a value.
func NewSender(typ string, secret map[string][]byte, client *http.Client) (Sender, error) {
	switch typ {
	case v1beta1.ReceiverWebhook:
		address, err := addressIn(secret, "")
		return &webhook{address: address, hmacKey: secret[KeyHMACKey], client: client}, err
	case v1beta1.ReceiverSlack:
		address, err := addressIn(secret, "")
		return &slack{address: address, client: client}, err
	case v1beta1.ReceiverPagerDuty:
		address, err := addressIn(secret, pagerDutyEventsURL)
		if len(secret[KeyRoutingKey]) == 0 && err == nil {
			err = fmt.Errorf("key %s is missing: set it to the integration key of the PagerDuty service (Events API v2)", KeyRoutingKey)
		}
		return &pagerDuty{address: address, routingKey: string(secret[KeyRoutingKey]), client: client}, err
	case v1beta1.ReceiverDingTalk:
		address, err := addressIn(secret, "")
		return &dingTalk{address: address, secret: secret[KeySigningSecret], client: client, now: time.Now}, err
	case v1beta1.ReceiverWeCom:
		address, err := addressIn(secret, "")
		return &weCom{address: address, client: client}, err
	case v1beta1.ReceiverLark:
		address, err := addressIn(secret, "")
		return &lark{address: address, secret: secret[KeySigningSecret], client: client, now: time.Now}, err
	case v1beta1.ReceiverTeams:
		address, err := addressIn(secret, "")
		return &teams{address: address, client: client}, err
	case v1beta1.ReceiverEmail:
		return newEmail(secret, time.Now)
	default:
		return nil, fmt.Errorf("spec.type %q is not a kind of receiver: use one of %s", typ, strings.Join(v1beta1.ReceiverTypes, ", "))
	}
}

// addressIn is the URL under the Secret's key address, or fallback when it has none.
func addressIn(secret map[string][]byte, fallback string) (string, error) {
	address := strings.TrimSpace(string(secret[KeyAddress]))
	if address == "" {
		if fallback != "" {
			return fallback, nil
		}
		return "", fmt.Errorf("key %s is missing: set it to the URL messages are posted to", KeyAddress)
	}
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("key %s is not an http(s) URL with a host: set it to the URL messages are posted to, like https://hooks.example.com/...", KeyAddress)
	}
	return address, nil
}

// maxAnswer is how much of a refusing receiver's answer an error quotes.
const maxAnswer = 256

// postJSON posts body as JSON to address and accepts any 2xx answer, whose body it
// returns; it follows no redirect. Its errors name the address by scheme and host
// only, and quote no part of its path or query: there webhook tokens live.
func postJSON(ctx context.Context, client *http.Client, address string, body any, header http.Header) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, bytes.NewReader(data))
	if err != nil {
		return nil, redact(err, address)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "flok-alerts")
	noRedirects := *client
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirects.Do(req)
	if err != nil {
		return nil, redact(err, address)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s answered %s: %s", hostOf(address), resp.Status, excerpt(answer, address))
	}
	return answer, nil
}

// redact takes the address out of an error of net/http, leaving its scheme and host.
func redact(err error, address string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, hostOf(address), ue.Err)
	}
	return errors.New(strings.ReplaceAll(err.Error(), address, hostOf(address)))
}

// hostOf is the scheme and host of address: what of it may be shown.
func hostOf(address string) string {
	u, err := url.Parse(address)
	if err != nil {
		return "the receiver's address"
	}
	return u.Scheme + "://" + u.Host
}

// excerpt is the start of a receiver's answer, on one line, with every part of the
// address's path and query that it echoes (an error page often does) blotted out.
func excerpt(answer []byte, address string) string {
	s := strings.Join(strings.Fields(string(answer)), " ")
	if u, err := url.Parse(address); err == nil {
		secrets := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
		for _, values := range u.Query() {
			secrets = append(secrets, values...)
		}
		for _, secret := range secrets {
			if len(secret) >= 4 {
				s = strings.ReplaceAll(s, secret, "…")
			}
		}
	}
	if s == "" {
		return "(no body)"
	}
	return truncate(s, maxAnswer)
}

// truncate cuts s to at most n bytes, at a character's boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
