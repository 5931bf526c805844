package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flok-dev/flok/api/v1beta1"
)

// TestDingTalkIsSigned: markdown, and the timestamp and sign DingTalk's robot checks:
// base64 of HMAC-SHA256(secret, timestamp + "\n" + secret), in the query.
func TestDingTalkIsSigned(t *testing.T) {
	srv, got := receiverServer(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	secret := "SECdingtalk"
	require.NoError(t, send(t, v1beta1.ReceiverDingTalk, map[string][]byte{
		KeyAddress: []byte(srv.URL + "/robot/send?access_token=abc"), KeySigningSecret: []byte(secret)}, sampleMessage(EventFiring)))
	q, err := url.ParseQuery(got.queries[0])
	require.NoError(t, err)
	require.Equal(t, "abc", q.Get("access_token"))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(q.Get("timestamp") + "\n" + secret))
	require.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), q.Get("sign"))
	var body struct {
		MsgType  string            `json:"msgtype"`
		Markdown map[string]string `json:"markdown"`
	}
	require.NoError(t, json.Unmarshal(got.bodies[0], &body))
	require.Equal(t, "markdown", body.MsgType)
	require.Contains(t, body.Markdown["title"], "JobFailed")
	require.Contains(t, body.Markdown["text"], "Fix the job")
}

// TestRobotsRefusalsAreErrors: a robot that answers HTTP 200 with an error code has
// not taken the message.
func TestRobotsRefusalsAreErrors(t *testing.T) {
	for typ, answer := range map[string]string{
		v1beta1.ReceiverDingTalk: `{"errcode":310000,"errmsg":"sign not match"}`,
		v1beta1.ReceiverWeCom:    `{"errcode":93000,"errmsg":"invalid webhook url"}`,
		v1beta1.ReceiverLark:     `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`,
	} {
		srv, _ := receiverServer(t, http.StatusOK, answer)
		err := send(t, typ, map[string][]byte{KeyAddress: []byte(srv.URL + "/hook/secret-token")}, sampleMessage(EventFiring))
		require.ErrorContains(t, err, "refused the message", typ)
		require.NotContains(t, err.Error(), "secret-token")
	}
}

// TestWeComPostsMarkdown: {"msgtype":"markdown","markdown":{"content":...}}.
func TestWeComPostsMarkdown(t *testing.T) {
	srv, got := receiverServer(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	require.NoError(t, send(t, v1beta1.ReceiverWeCom, map[string][]byte{KeyAddress: []byte(srv.URL + "/cgi-bin/webhook/send?key=k")}, sampleMessage(EventReminder)))
	var body struct {
		MsgType  string            `json:"msgtype"`
		Markdown map[string]string `json:"markdown"`
	}
	require.NoError(t, json.Unmarshal(got.bodies[0], &body))
	require.Equal(t, "markdown", body.MsgType)
	require.Contains(t, body.Markdown["content"], "**[REMINDER] critical JobFailed")
	require.Contains(t, body.Markdown["content"], "Still open, since")
}

// TestLarkIsSigned: text content, and the timestamp and sign of the bot's signature
// verification in the body.
func TestLarkIsSigned(t *testing.T) {
	srv, got := receiverServer(t, http.StatusOK, `{"code":0,"msg":"success","data":{}}`)
	secret := []byte("lark-secret")
	require.NoError(t, send(t, v1beta1.ReceiverLark, map[string][]byte{KeyAddress: []byte(srv.URL + "/open-apis/bot/v2/hook/x"), KeySigningSecret: secret}, sampleMessage(EventFiring)))
	var body struct {
		MsgType   string            `json:"msg_type"`
		Content   map[string]string `json:"content"`
		Timestamp string            `json:"timestamp"`
		Sign      string            `json:"sign"`
	}
	require.NoError(t, json.Unmarshal(got.bodies[0], &body))
	require.Equal(t, "text", body.MsgType)
	require.Contains(t, body.Content["text"], "JobFailed")
	mac := hmac.New(sha256.New, []byte(body.Timestamp+"\n"+string(secret)))
	require.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), body.Sign)
}

// TestTeamsPostsAnAdaptiveCard: a message with one Adaptive Card attachment.
func TestTeamsPostsAnAdaptiveCard(t *testing.T) {
	srv, got := receiverServer(t, http.StatusAccepted, "")
	require.NoError(t, send(t, v1beta1.ReceiverTeams, map[string][]byte{KeyAddress: []byte(srv.URL + "/workflows/x")}, sampleMessage(EventFiring)))
	var body struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string           `json:"type"`
				Version string           `json:"version"`
				Body    []map[string]any `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal(got.bodies[0], &body))
	require.Equal(t, "message", body.Type)
	require.Len(t, body.Attachments, 1)
	require.Equal(t, "application/vnd.microsoft.card.adaptive", body.Attachments[0].ContentType)
	require.Equal(t, "AdaptiveCard", body.Attachments[0].Content.Type)
	require.Equal(t, "FactSet", body.Attachments[0].Content.Body[2]["type"])
}
