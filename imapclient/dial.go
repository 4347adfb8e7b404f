package imapclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"

	"sportello/store"
)

// ErrAuthFailed means the server refused the account's credentials.
var ErrAuthFailed = errors.New("imapclient: the mail server refused the username or password")

// wordDecoder decodes RFC 2047 words in any charset go-message knows;
// go-imap applies it to envelopes as they arrive.
var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// TLSConfig is the TLS configuration for an account's servers: certificates
// verified, TLS 1.2 at least, unless the account explicitly skips checks.
func TLSConfig(a store.Account, hostport string) *tls.Config {
	host, _, _ := net.SplitHostPort(hostport)
	return &tls.Config{
		ServerName:         host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: a.InsecureSkipVerify, //nolint:gosec // the operator chose it per account, and the UI shows it
	}
}

// dial connects and logs in. The returned client is closed when ctx ends.
func dial(ctx context.Context, a store.Account, password string, handler *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	opts := &imapclient.Options{
		TLSConfig:             TLSConfig(a, a.IMAPAddr),
		UnilateralDataHandler: handler,
		WordDecoder:           wordDecoder,
		// go-imap sets no read deadline while idling: TCP keepalive is what
		// notices a peer that vanished.
		Dialer: &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
	}
	var c *imapclient.Client
	var err error
	switch a.TLS {
	case store.TLSStartTLS:
		c, err = imapclient.DialStartTLS(a.IMAPAddr, opts)
	case store.TLSNone:
		c, err = imapclient.DialInsecure(a.IMAPAddr, opts)
	default:
		c, err = imapclient.DialTLS(a.IMAPAddr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("imapclient: cannot connect to %s: %w", a.IMAPAddr, err)
	}
	go func() {
		select {
		case <-ctx.Done():
			c.Close()
		case <-c.Closed():
		}
	}()
	if err := c.Login(a.Username, password).Wait(); err != nil {
		c.Close()
		var imapErr *imap.Error
		if errors.As(err, &imapErr) && imapErr.Type == imap.StatusResponseTypeNo {
			return nil, fmt.Errorf("%w for %s (%s)", ErrAuthFailed, a.Address, imapErr.Text)
		}
		return nil, fmt.Errorf("imapclient: login to %s failed: %w", a.IMAPAddr, err)
	}
	return c, nil
}
