package web

import (
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// loginLimits throttles login attempts per client address and per account,
// so neither one machine nor a botnet aimed at one person can guess freely.
type loginLimits struct {
	mu       sync.Mutex
	byIP     map[string]*limiter
	byEmail  map[string]*limiter
	lastTidy time.Time
}

type limiter struct {
	*rate.Limiter
	seen time.Time
}

var (
	perIPRate    = rate.Every(6 * time.Second) // 10 a minute, sustained
	perIPBurst   = 10
	perUserRate  = rate.Every(12 * time.Second) // 5 a minute
	perUserBurst = 5
)

func newLoginLimits() *loginLimits {
	return &loginLimits{byIP: map[string]*limiter{}, byEmail: map[string]*limiter{}}
}

// allow reports whether one more attempt from ip on email may go ahead.
func (l *loginLimits) allow(ip, email string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastTidy) > 10*time.Minute {
		l.tidy(now)
	}
	a := l.get(l.byIP, ip, perIPRate, perIPBurst, now)
	b := l.get(l.byEmail, strings.ToLower(strings.TrimSpace(email)), perUserRate, perUserBurst, now)
	// Both must have room; take from both only then.
	if a.TokensAt(now) < 1 || b.TokensAt(now) < 1 {
		return false
	}
	a.AllowN(now, 1)
	b.AllowN(now, 1)
	return true
}

func (l *loginLimits) get(m map[string]*limiter, key string, r rate.Limit, burst int, now time.Time) *limiter {
	lim, ok := m[key]
	if !ok {
		lim = &limiter{Limiter: rate.NewLimiter(r, burst)}
		m[key] = lim
	}
	lim.seen = now
	return lim
}

func (l *loginLimits) tidy(now time.Time) {
	for _, m := range []map[string]*limiter{l.byIP, l.byEmail} {
		for k, lim := range m {
			if now.Sub(lim.seen) > 10*time.Minute {
				delete(m, k)
			}
		}
	}
	l.lastTidy = now
}
