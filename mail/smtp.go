package mail

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPConfig says how to reach an account's submission server.
type SMTPConfig struct {
	Addr               string // host:port
	TLS                string // implicit, starttls, none
	Username, Password string
	InsecureSkipVerify bool
}

// SubmitError is a refusal by the server: Permanent for a 5xx answer (the
// message will never go as it is), else worth another try later.
type SubmitError struct {
	Permanent bool
	Answer    string
}

func (e *SubmitError) Error() string { return e.Answer }

// Submit sends raw to rcpts with go-smtp, and returns the server's final
// answer. Network failures and 4xx answers are transient (*SubmitError with
// Permanent false, or a plain error); 5xx answers are permanent.
func Submit(cfg SMTPConfig, from string, rcpts []string, raw []byte) (string, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return "", &SubmitError{Permanent: true, Answer: fmt.Sprintf("the SMTP address %q is not HOST:PORT", cfg.Addr)}
	}
	tlsConfig := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // per-account, shown in the UI
	var c *smtp.Client
	switch cfg.TLS {
	case "starttls":
		c, err = smtp.DialStartTLS(cfg.Addr, tlsConfig)
	case "none":
		c, err = smtp.Dial(cfg.Addr)
	default:
		c, err = smtp.DialTLS(cfg.Addr, tlsConfig)
	}
	if err != nil {
		return "", classify(err)
	}
	defer c.Close()
	c.CommandTimeout = 2 * time.Minute
	c.SubmissionTimeout = 5 * time.Minute
	if ok, mechs := c.Extension("AUTH"); ok && cfg.Username != "" {
		// PLAIN where offered, else LOGIN (older servers offer only that).
		client := sasl.NewPlainClient("", cfg.Username, cfg.Password)
		if !hasMech(mechs, sasl.Plain) && hasMech(mechs, sasl.Login) {
			client = sasl.NewLoginClient(cfg.Username, cfg.Password)
		}
		if err := c.Auth(client); err != nil {
			return "", classify(err)
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return "", classify(err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return "", classify(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", classify(err)
	}
	if _, err := w.Write(raw); err != nil {
		return "", classify(err)
	}
	if err := w.Close(); err != nil {
		return "", classify(err)
	}
	_ = c.Quit()
	return "250 accepted", nil
}

func classify(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		answer := strings.TrimSpace(fmt.Sprintf("%d %s", se.Code, se.Message))
		return &SubmitError{Permanent: se.Code >= 500, Answer: answer}
	}
	return &SubmitError{Answer: err.Error()}
}

func hasMech(list, mech string) bool {
	for _, m := range strings.Fields(list) {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}
