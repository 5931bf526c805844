package alerts

import (
	"context"
	"net/http"
)

// slack posts to a Slack incoming webhook: a text, in Slack's mrkdwn.
type slack struct {
	address string
	client  *http.Client
}

func (s *slack) Send(ctx context.Context, m Message) error {
	_, err := postJSON(ctx, s.client, s.address, map[string]string{"text": "*" + m.Title() + "*\n" + m.Text()}, nil)
	return err
}
