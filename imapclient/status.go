package imapclient

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Account states, as /readyz reports them.
const (
	StateConnecting = "connecting"
	StateSyncing    = "syncing"
	StateIdle       = "idle"
	StateAuthFailed = "auth_failed"
	StateError      = "error"
	StateStandby    = "standby" // another process owns the account
)

var allStates = []string{StateConnecting, StateSyncing, StateIdle, StateAuthFailed, StateError, StateStandby}

// Status is one account's sync state.
type Status struct {
	ID         int64
	Name       string
	State      string
	LastChange time.Time
	LastError  string
	LastSync   time.Time
	// LastEventToCache is how long the last change the server pushed over
	// IDLE took to reach the cache (EXISTS received → rows committed).
	LastEventToCache time.Duration
	EventsApplied    int64
}

type statusBoard struct {
	mu      sync.Mutex
	byID    map[int64]*Status
	metrics *metrics
}

func newStatusBoard(m *metrics) *statusBoard {
	return &statusBoard{byID: map[int64]*Status{}, metrics: m}
}

func (b *statusBoard) set(id int64, name, state string, err error) {
	lastErr := ""
	if err != nil {
		lastErr = err.Error()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.byID[id]
	if !ok {
		st = &Status{ID: id}
		b.byID[id] = st
	}
	st.Name = name
	if st.State != state || st.LastError != lastErr {
		st.LastChange = time.Now().UTC()
	}
	st.State, st.LastError = state, lastErr
	if state == StateIdle {
		st.LastSync = time.Now()
	}
	for _, s := range allStates {
		v := 0.0
		if s == state {
			v = 1
		}
		b.metrics.state.WithLabelValues(name, s).Set(v)
	}
}

func (b *statusBoard) eventApplied(id int64, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st, ok := b.byID[id]; ok {
		st.LastEventToCache = d
		st.EventsApplied++
		b.metrics.eventLatency.WithLabelValues(st.Name).Observe(d.Seconds())
	}
}

func (b *statusBoard) remove(id int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st, ok := b.byID[id]; ok {
		for _, s := range allStates {
			b.metrics.state.DeleteLabelValues(st.Name, s)
		}
		b.metrics.lag.DeleteLabelValues(st.Name)
	}
	delete(b.byID, id)
}

func (b *statusBoard) snapshot() map[int64]Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[int64]Status, len(b.byID))
	for id, st := range b.byID {
		out[id] = *st
		if !st.LastSync.IsZero() {
			b.metrics.lag.WithLabelValues(st.Name).Set(time.Since(st.LastSync).Seconds())
		}
	}
	return out
}

type metrics struct {
	state    *prometheus.GaugeVec
	lag      *prometheus.GaugeVec
	fetched  *prometheus.CounterVec
	syncTime *prometheus.HistogramVec
	// eventLatency: IDLE notification received → cache committed.
	eventLatency *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sportello_account_state", Help: "1 for the account's current sync state.",
		}, []string{"account", "state"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sportello_sync_lag_seconds", Help: "Seconds since the account's INBOX was last known in sync.",
		}, []string{"account"}),
		fetched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sportello_sync_messages_total", Help: "Message headers fetched from IMAP into the cache.",
		}, []string{"account"}),
		syncTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sportello_folder_sync_seconds", Help: "Time to sync one folder.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"account"}),
	}
	m.eventLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sportello_idle_event_to_cache_seconds", Help: "Time from a change pushed over IDLE to the cache holding it.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 12),
	}, []string{"account"})
	if reg != nil {
		reg.MustRegister(m.state, m.lag, m.fetched, m.syncTime, m.eventLatency)
	}
	return m
}
