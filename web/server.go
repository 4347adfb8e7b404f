// Package web serves Sportello's team inbox: the chi router, middleware
// (sessions, authorization, CSRF, security headers, rate limits), one file per
// resource and the SSE hub. It reads and writes through store, asks
// imapclient for mailbox actions and renders views; nothing imports it but
// cmd/sportello.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sportello/imapclient"
	"sportello/static"
	"sportello/store"
)

// AccountState is one account's sync state as /readyz reports it.
type AccountState struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	State      string    `json:"state"`
	Messages   int64     `json:"messages"`
	LastChange time.Time `json:"last_change"`
	LastError  string    `json:"last_error"`
}

// SyncStatus reports the sync state of the accounts this process runs.
type SyncStatus interface {
	AccountStates() map[int64]AccountState
}

// SupervisorStatus reports a sync supervisor's accounts for /readyz.
type SupervisorStatus struct{ Supervisor *imapclient.Supervisor }

// AccountStates implements SyncStatus.
func (s SupervisorStatus) AccountStates() map[int64]AccountState {
	out := map[int64]AccountState{}
	for id, st := range s.Supervisor.Statuses() {
		out[id] = AccountState{ID: id, Name: st.Name, State: st.State, LastChange: st.LastChange, LastError: st.LastError}
	}
	return out
}

// Options configures a Server.
type Options struct {
	Store  *store.Store
	Logger *slog.Logger
	// Registry collects the process's metrics; /metrics serves it.
	Registry *prometheus.Registry
	// Sync may be nil (a process that runs no sync).
	Sync SyncStatus
	// SecureCookies marks the session cookie Secure (behind TLS).
	SecureCookies bool
	// IMAP runs on-demand commands (message bodies, server search); nil
	// in tests that need none.
	IMAP *imapclient.Commands
	// BodyCacheMax is the largest message whose bytes are kept in
	// PostgreSQL (default 10 MB).
	BodyCacheMax int64
	// UndoWindow is how long a delete can be undone before it reaches the
	// server (default 5 s).
	UndoWindow time.Duration
	// SenderTick is how often the outbox is checked (default 1 s).
	SenderTick time.Duration
	// RetryBase is the first retry delay after a transient SMTP failure
	// (default 2 s; it doubles with each attempt).
	RetryBase time.Duration
}

// Server is the HTTP side of Sportello.
type Server struct {
	store        *store.Store
	log          *slog.Logger
	registry     *prometheus.Registry
	sync         SyncStatus
	sessions     *scs.SessionManager
	limits       *loginLimits
	imap         *imapclient.Commands
	bodyCacheMax int64
	undoWindow   time.Duration
	senderTick   time.Duration
	retryBase    time.Duration
	sendNow      chan struct{}
	hub          *hub
	closing      chan struct{} // closed by CloseStreams: ends SSE streams
	closeOnce    sync.Once
	stop         context.CancelFunc
	stopped      sync.WaitGroup
}

// Session lifetimes: an idle session ends after a working day without use;
// any session ends after two weeks.
const (
	sessionIdleTimeout = 12 * time.Hour
	sessionLifetime    = 14 * 24 * time.Hour
	// sessionTouch is how stale the recorded last activity may get before
	// it is written again.
	sessionTouch = 5 * time.Minute
)

// New builds a Server.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		store:    o.Store,
		log:      o.Logger,
		registry: o.Registry,
		sync:     o.Sync,
		limits:   newLoginLimits(),
		imap:     o.IMAP,
		hub:      newHub(),
		closing:  make(chan struct{}),
	}
	s.bodyCacheMax = o.BodyCacheMax
	if s.bodyCacheMax == 0 {
		s.bodyCacheMax = 10 << 20
	}
	s.undoWindow = o.UndoWindow
	if s.undoWindow == 0 {
		s.undoWindow = 5 * time.Second
	}
	s.senderTick, s.sendNow = o.SenderTick, make(chan struct{}, 1)
	if s.senderTick == 0 {
		s.senderTick = time.Second
	}
	s.retryBase = o.RetryBase
	if s.retryBase == 0 {
		s.retryBase = 2 * time.Second
	}
	// pgxstore's own cleanup goroutine cannot be stopped without a race;
	// the server runs the cleanup itself.
	s.sessions = scs.New()
	s.sessions.Store = pgxstore.NewWithCleanupInterval(o.Store.Pool, 0)
	// The idle timeout is enforced by requireUser: scs's own would write
	// the session back on every request.
	s.sessions.Lifetime = sessionLifetime
	s.sessions.Cookie.Name = "sportello_session"
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.Cookie.Secure = o.SecureCookies
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.serverError(w, r, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.stopped.Add(4)
	go func() { defer s.stopped.Done(); s.cleanSessions(ctx) }()
	go func() { defer s.stopped.Done(); s.listen(ctx) }()
	go func() { defer s.stopped.Done(); s.runScheduled(ctx) }()
	go func() { defer s.stopped.Done(); s.runSender(ctx) }()
	return s
}

// CloseStreams ends the open event streams, which would otherwise keep a
// graceful shutdown waiting.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// Close ends the server's streams and background work.
func (s *Server) Close() {
	s.CloseStreams()
	s.stop()
	s.stopped.Wait()
}

func (s *Server) cleanSessions(ctx context.Context) {
	ticker := time.NewTicker(10 * time.Minute)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if _, err := s.store.DeleteExpiredSessions(ctx); err != nil {
				s.log.Warn("session cleanup failed", "err", err)
			}
		}
	}
}

// Handler is the whole HTTP interface.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverPanics, securityHeaders)

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	r.Handle("/static/*", http.StripPrefix("/static/", static.Handler()))

	r.Group(func(r chi.Router) {
		r.Use(s.sessions.LoadAndSave, s.language)
		r.Get("/login", s.loginForm)
		r.Post("/login", s.login)
		r.Group(func(r chi.Router) {
			r.Use(s.requireUser)
			r.Post("/logout", s.logout)
			r.Get("/", s.home)
			r.Get("/all", s.allInboxes)
			r.Get("/events", s.events)
			r.Post("/settings/language", s.setLanguage)
			r.Get("/contacts", s.contactsShow)
			r.Get("/contacts/suggest", s.contactsSuggest)
			r.Get("/contacts/export.vcf", s.contactsExport)
			r.Post("/contacts", s.contactPut)
			r.Post("/contacts/import", s.contactsImport)
			r.Post("/contacts/{id}/delete", s.contactDelete)
			r.Route("/a/{acct}", func(r chi.Router) {
				r.Get("/f/{folder}", s.folderShow)
				r.Get("/m/{msg}", s.messageShow)
				r.Get("/m/{msg}/body", s.messageBody)
				r.Get("/m/{msg}/raw", s.messageRaw)
				r.Get("/m/{msg}/part/{part}", s.messagePart)
				r.Post("/m/{msg}/{action}", s.messageAction)
				r.Post("/bulk", s.bulkAction)
				r.Post("/empty-trash", s.emptyTrash)
				r.Post("/undo/{pending}", s.undo)
				r.Get("/activity", s.activityShow)
				r.Get("/compose", s.composeForm)
				r.Post("/outbox", s.outboxSend)
				r.Post("/drafts", s.draftSave)
				r.Post("/signature", s.signatureSave)
				r.Get("/drafts", s.draftsShow)
				r.Post("/drafts/{id}/delete", s.draftDelete)
				r.Get("/outbox", s.outboxShow)
				r.Post("/outbox/{id}/retry", s.outboxRetry)
				r.Post("/outbox/{id}/discard", s.outboxDiscard)
				r.Get("/members", s.membersShow)
				r.Post("/members", s.memberGrant)
				r.Post("/members/{user}/revoke", s.memberRevoke)
			})
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
	})

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"), "remote", remoteIP(r))
		http.Error(w, "Cross-origin request refused.", http.StatusForbidden)
	}))
	return csrf.Handler(r)
}

type userKey struct{}

// currentUser is the logged-in user of a request that went through
// requireUser.
func currentUser(ctx context.Context) *store.User {
	u, _ := ctx.Value(userKey{}).(*store.User)
	return u
}
