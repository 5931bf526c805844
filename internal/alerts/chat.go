package alerts

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The chat robots of DingTalk, WeCom (WeChat Work), Lark (Feishu) and Microsoft Teams.
// Each is posted its own JSON; the first three answer HTTP 200 also when they refuse a
// message, with an error code in the body that is checked.

// dingTalk posts markdown to a DingTalk group robot; with a signing secret, the
// address carries timestamp and sign as DingTalk's "加签" security setting asks.
type dingTalk struct {
	address string
	secret  []byte
	client  *http.Client
	now     func() time.Time
}

func (d *dingTalk) Send(ctx context.Context, m Message) error {
	address := d.address
	if len(d.secret) > 0 {
		ts := strconv.FormatInt(d.now().UnixMilli(), 10)
		mac := hmac.New(sha256.New, d.secret)
		mac.Write([]byte(ts + "\n" + string(d.secret)))
		q := url.Values{"timestamp": {ts}, "sign": {base64.StdEncoding.EncodeToString(mac.Sum(nil))}}
		address = withQuery(address, q)
	}
	body := map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": m.Title(), "text": "### " + m.Title() + "\n\n" + m.Text()}}
	return postChecked(ctx, d.client, address, body, "errcode", "errmsg")
}

// weCom posts markdown to a WeCom group robot.
type weCom struct {
	address string
	client  *http.Client
}

// weComMarkdownMax is the longest markdown content a WeCom robot takes, in bytes.
const weComMarkdownMax = 4096

func (w *weCom) Send(ctx context.Context, m Message) error {
	content := truncate("**"+m.Title()+"**\n"+m.Text(), weComMarkdownMax-len("…"))
	body := map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": content}}
	return postChecked(ctx, w.client, w.address, body, "errcode", "errmsg")
}

// lark posts text to a Lark (Feishu) custom bot; with a signing secret, the body
// carries timestamp and sign as the bot's signature verification asks.
type lark struct {
	address string
	secret  []byte
	client  *http.Client
	now     func() time.Time
}

func (l *lark) Send(ctx context.Context, m Message) error {
	body := map[string]any{"msg_type": "text", "content": map[string]string{"text": m.Title() + "\n" + m.Text()}}
	if len(l.secret) > 0 {
		ts := strconv.FormatInt(l.now().Unix(), 10)
		body["timestamp"], body["sign"] = ts, LarkSign(ts, l.secret)
	}
	return postChecked(ctx, l.client, l.address, body, "code", "msg")
}

// LarkSign is a Lark bot's signature of timestamp (seconds): HMAC-SHA256 of nothing,
// keyed by timestamp, a newline and the secret, in base64.
func LarkSign(timestamp string, secret []byte) string {
	mac := hmac.New(sha256.New, []byte(timestamp+"\n"+string(secret)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// teams posts an Adaptive Card to a Microsoft Teams workflow ("When a Teams webhook
// request is received").
type teams struct {
	address string
	client  *http.Client
}

func (tm *teams) Send(ctx context.Context, m Message) error {
	facts := []map[string]string{}
	for _, f := range m.Fields() {
		facts = append(facts, map[string]string{"title": f[0], "value": f[1]})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
		"body": []map[string]any{
			{"type": "TextBlock", "text": m.Title(), "weight": "Bolder", "wrap": true},
			{"type": "TextBlock", "text": m.Incident.Message, "wrap": true},
			{"type": "FactSet", "facts": facts},
		},
	}
	body := map[string]any{"type": "message", "attachments": []map[string]any{
		{"contentType": "application/vnd.microsoft.card.adaptive", "content": card},
	}}
	_, err := postJSON(ctx, tm.client, tm.address, body, nil)
	return err
}

// postChecked posts body and reads the error code a chat robot answers under codeKey
// (0: taken) and its message under msgKey.
func postChecked(ctx context.Context, client *http.Client, address string, body any, codeKey, msgKey string) error {
	answer, err := postJSON(ctx, client, address, body, nil)
	if err != nil {
		return err
	}
	var fields map[string]any
	if err := json.Unmarshal(answer, &fields); err != nil {
		return fmt.Errorf("%s answered what is not JSON: %s", hostOf(address), excerpt(answer, address))
	}
	if code, ok := fields[codeKey].(float64); ok && code != 0 {
		return fmt.Errorf("%s refused the message: %s %v: %v", hostOf(address), codeKey, code, fields[msgKey])
	}
	return nil
}

// withQuery adds q to the address's query.
func withQuery(address string, q url.Values) string {
	u, err := url.Parse(address)
	if err != nil {
		return address
	}
	values := u.Query()
	for k, v := range q {
		values[k] = v
	}
	u.RawQuery = values.Encode()
	return u.String()
}
