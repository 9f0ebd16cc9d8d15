// Package voicemail announces new voicemail messages: it stores each
// message and, when a webhook is configured (ivr.voicemail_webhook), POSTs
// the message's metadata to it.
package voicemail

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	sb "github.com/switchboard/switchboard"
)

// Store keeps voicemail messages (storage.DB).
type Store interface {
	InsertVoicemail(ctx context.Context, v *sb.Voicemail) error
}

// attempts is how many times a message is posted to a webhook that fails;
// the n-th failure waits n seconds before the next try.
const attempts = 3

// Webhook stores voicemail messages and, when URL is set, POSTs each new
// message's metadata to it as {"event":"voicemail.new","voicemail":{...}}
// (retrying briefly; a webhook that stays down is logged, the message is
// kept either way). The post runs in a goroutine of its own, so the call
// is not held up: Wait waits for those still running.
type Webhook struct {
	store  Store
	url    string
	log    *slog.Logger
	client *http.Client
	wg     sync.WaitGroup
}

// New returns a Webhook that stores into store and posts to url (none when
// empty). client nil is an http.Client with a 10 s timeout.
func New(store Store, url string, client *http.Client, log *slog.Logger) *Webhook {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Webhook{store: store, url: url, log: log, client: client}
}

// InsertVoicemail stores v, then announces it to the webhook in the
// background. Only a failure to store is an error.
func (h *Webhook) InsertVoicemail(ctx context.Context, v *sb.Voicemail) error {
	if err := h.store.InsertVoicemail(ctx, v); err != nil {
		return err
	}
	if h.url == "" {
		return nil
	}
	body, err := json.Marshal(struct {
		Event     string        `json:"event"`
		Voicemail *sb.Voicemail `json:"voicemail"`
	}{"voicemail.new", v})
	if err != nil {
		return nil
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.post(v.CallID, body)
	}()
	return nil
}

// post delivers one message, trying up to attempts times.
func (h *Webhook) post(call sb.CallID, body []byte) {
	for attempt := range attempts {
		resp, err := h.client.Post(h.url, "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		h.log.Warn("voicemail webhook", "call_id", call, "attempt", attempt+1, "err", err)
		if attempt+1 < attempts {
			time.Sleep(time.Duration(attempt+1) * time.Second)
		}
	}
}

// Wait waits for the posts under way. Call it once no more messages come
// (the center has stopped).
func (h *Webhook) Wait() { h.wg.Wait() }
