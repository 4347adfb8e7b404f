package web

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"sportello/store"
	"sportello/views"
)

// pageCSP allows only Sportello's own scripts and styles; message bodies get
// a stricter policy of their own.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.fail(w, r, http.StatusInternalServerError, "Something went wrong on our side; the error was logged.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// language picks the page language: the user's choice, else the browser's.
func (s *Server) language(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := views.PickLang(r.Header.Get("Accept-Language"))
		if l := s.sessions.GetString(r.Context(), "lang"); l != "" {
			lang = l
		}
		next.ServeHTTP(w, r.WithContext(views.WithLang(r.Context(), lang)))
	})
}

const (
	sessionUserID = "user_id"
	sessionSeen   = "seen" // unix seconds of the last recorded activity
)

// requireUser loads the logged-in user afresh on every request, so a
// removed user or a changed right takes effect at once.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := s.sessions.GetInt64(r.Context(), sessionUserID)
		if id == 0 {
			s.toLogin(w, r)
			return
		}
		now := time.Now().Unix()
		seen := s.sessions.GetInt64(r.Context(), sessionSeen)
		if now-seen > int64(sessionIdleTimeout/time.Second) {
			_ = s.sessions.Destroy(r.Context())
			s.toLogin(w, r)
			return
		}
		if now-seen > int64(sessionTouch/time.Second) {
			s.sessions.Put(r.Context(), sessionSeen, now)
		}
		u, err := s.store.Users.ByID(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			_ = s.sessions.Destroy(r.Context())
			s.toLogin(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if u.Locale != "" && s.sessions.GetString(r.Context(), "lang") == "" {
			r = r.WithContext(views.WithLang(r.Context(), u.Locale))
		}
		next.ServeHTTP(w, r.WithContext(withUser(r.Context(), u)))
	})
}

func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Sign in first.", http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// remoteIP is the client address without the port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPath accepts only a path on this site as a redirect target.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
