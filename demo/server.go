// Package demo is the built-in mail server of `sportello demo`: an IMAP
// server (go-imap's imapserver over imapmemserver) and an SMTP server
// (go-smtp) on loopback, seeded with sample mail for a small Italian office,
// including a PEC mailbox. Mail sent to a demo address is delivered to its
// INBOX; mail sent from the PEC mailbox gets PEC receipts back, as a real
// provider would send them. Seed writes the demo office (users, accounts,
// roles) through store; web is never imported.
package demo

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"sportello/mail"
)

// Mailbox is one demo mail account.
type Mailbox struct {
	Name     string
	Address  string
	Password string
	PEC      bool
}

// Mailboxes are the demo's shared accounts.
var Mailboxes = []Mailbox{
	{Name: "Studio Rossi – info", Address: "info@studio.test", Password: "demo-info", PEC: false},
	{Name: "Studio Rossi – PEC", Address: "studio.rossi@pec.studio.test", Password: "demo-pec", PEC: true},
}

// Server is the running demo mail server.
type Server struct {
	IMAPAddr string
	SMTPAddr string

	imap  *imapserver.Server
	smtp  *smtp.Server
	mem   *imapmemserver.Server
	users map[string]*imapmemserver.User
	log   *slog.Logger
	mu    sync.Mutex
	seq   int
}

// Start listens on free loopback ports and seeds the mailboxes.
// pecFixtures are extra PEC messages added to the PEC INBOX as they are.
func Start(log *slog.Logger, pecFixtures [][]byte) (*Server, error) {
	s := &Server{mem: imapmemserver.New(), users: map[string]*imapmemserver.User{}, log: log}
	for _, mb := range Mailboxes {
		u := imapmemserver.NewUser(mb.Address, mb.Password)
		for _, f := range []string{"INBOX", "Sent", "Drafts", "Trash", "Archive", "Junk"} {
			if err := u.Create(f, nil); err != nil {
				return nil, err
			}
		}
		s.mem.AddUser(u)
		s.users[strings.ToLower(mb.Address)] = u
	}
	if err := s.seed(pecFixtures); err != nil {
		return nil, err
	}

	imapLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: cannot listen for IMAP: %w", err)
	}
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return s.mem.NewSession(), nil, nil
		},
		Caps: imap.CapSet{
			imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}, imap.CapIdle: {}, imap.CapUIDPlus: {},
			imap.CapMove: {}, imap.CapNamespace: {}, imap.CapESearch: {},
		},
		InsecureAuth: true, // loopback only, demo passwords
		Logger:       printfLogger{log},
	})
	go func() { _ = s.imap.Serve(imapLn) }()
	s.IMAPAddr = imapLn.Addr().String()

	smtpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.imap.Close()
		return nil, fmt.Errorf("demo: cannot listen for SMTP: %w", err)
	}
	s.smtp = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }))
	s.smtp.Domain = "localhost"
	s.smtp.ErrorLog = printfLogger{log}
	s.smtp.AllowInsecureAuth = true
	s.smtp.MaxMessageBytes = 30 << 20
	s.smtp.ReadTimeout = time.Minute
	s.smtp.WriteTimeout = time.Minute
	go func() { _ = s.smtp.Serve(smtpLn) }()
	s.SMTPAddr = smtpLn.Addr().String()
	return s, nil
}

// Close stops both servers.
func (s *Server) Close() {
	s.imap.Close()
	s.smtp.Close()
}

// Deliver appends a message to a folder of a demo mailbox, arriving now.
func (s *Server) Deliver(address, folder string, msg []byte, flags ...imap.Flag) error {
	return s.deliverAt(address, folder, msg, time.Now(), flags...)
}

func (s *Server) deliverAt(address, folder string, msg []byte, at time.Time, flags ...imap.Flag) error {
	u, ok := s.users[strings.ToLower(address)]
	if !ok {
		return fmt.Errorf("demo: no mailbox %s", address)
	}
	_, err := u.Append(folder, bytes.NewReader(msg), &imap.AppendOptions{Flags: flags, Time: at})
	return err
}

type smtpSession struct {
	srv  *Server
	user string
	from string
	to   []string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		for _, mb := range Mailboxes {
			if strings.EqualFold(mb.Address, username) && mb.Password == password {
				s.user = mb.Address
				return nil
			}
		}
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
	}
	return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	msg, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.accept(s.user, s.to, msg)
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// accept delivers a submitted message: to demo mailboxes directly, and for
// the PEC mailbox with an acceptance and a delivery receipt per recipient.
func (s *Server) accept(sender string, rcpts []string, msg []byte) {
	for _, to := range rcpts {
		if _, ok := s.users[strings.ToLower(to)]; ok {
			if err := s.Deliver(to, "INBOX", msg); err != nil {
				s.log.Warn("demo: delivery failed", "to", to, "err", err)
			}
		}
	}
	if !isPEC(sender) {
		return
	}
	hdr := mail.HeaderOf(msg)
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("opec.demo.%d.%d@pec.studio.test", time.Now().Unix(), s.seq)
	s.mu.Unlock()
	p := pecParams{
		MsgID: hdr.Get("Message-Id"), Subject: hdr.Get("Subject"), Sender: sender,
		Recipients: rcpts, Identificativo: id, When: time.Now(),
	}
	// A real provider answers within seconds; so does the demo.
	go func() {
		time.Sleep(500 * time.Millisecond)
		_ = s.Deliver(sender, "INBOX", pecReceipt(p, "accettazione", ""))
		for _, to := range rcpts {
			time.Sleep(300 * time.Millisecond)
			_ = s.Deliver(sender, "INBOX", pecReceipt(p, "avvenuta-consegna", to))
		}
	}()
}

func isPEC(address string) bool {
	for _, mb := range Mailboxes {
		if mb.PEC && strings.EqualFold(mb.Address, address) {
			return true
		}
	}
	return false
}

// printfLogger sends the servers' Printf logging to slog, at debug level:
// a client hanging up is routine in a demo.
type printfLogger struct{ log *slog.Logger }

func (l printfLogger) Printf(format string, args ...any) {
	l.log.Debug("demo mail server: " + fmt.Sprintf(format, args...))
}

func (l printfLogger) Println(args ...any) {
	l.log.Debug("demo mail server: " + fmt.Sprint(args...))
}
