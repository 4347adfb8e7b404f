package testrig

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Submitted is one message an SMTP server accepted.
type Submitted struct {
	From string
	To   []string
	Data []byte
}

// SMTPServer is a go-smtp server on loopback that records what it accepts.
// Answer, if set, decides each DATA: nil accepts, an *smtp.SMTPError
// refuses with its code.
type SMTPServer struct {
	Addr   string
	Answer func(attempt int) error

	mu       sync.Mutex
	attempts int
	accepted []Submitted
}

// StartSMTP starts a recording SMTP server (plain, AUTH PLAIN allowed).
func StartSMTP(t testing.TB) *SMTPServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{Addr: ln.Addr().String()}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// Accepted returns the messages accepted so far.
func (s *SMTPServer) Accepted() []Submitted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Submitted(nil), s.accepted...)
}

// Attempts counts the DATA commands received.
func (s *SMTPServer) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

type smtpSession struct {
	srv  *SMTPServer
	from string
	to   []string
}

func (x *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, _, _ string) error { return nil }), nil
}
func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error   { x.to = append(x.to, to); return nil }
func (x *smtpSession) Reset()                                      { x.from, x.to = "", nil }
func (x *smtpSession) Logout() error                               { return nil }

func (x *smtpSession) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	x.srv.attempts++
	if x.srv.Answer != nil {
		if err := x.srv.Answer(x.srv.attempts); err != nil {
			return err
		}
	}
	x.srv.accepted = append(x.srv.accepted, Submitted{From: x.from, To: append([]string(nil), x.to...), Data: b.Bytes()})
	return nil
}
