package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

type readiness struct {
	Database string         `json:"database"`
	Accounts []AccountState `json:"accounts"`
}

// readyz reports the database and each account's sync state. It answers
// JSON always; 503 while the database does not answer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	out := readiness{Database: "ok", Accounts: []AccountState{}}
	status := http.StatusOK
	accounts, err := s.store.Accounts.List(ctx)
	var counts map[int64]int64
	if err == nil {
		counts, err = s.store.Messages.CountByAccount(ctx)
	}
	if err != nil {
		s.log.Error("readiness: database unavailable", "err", err)
		out.Database = "unavailable"
		status = http.StatusServiceUnavailable
	}
	var states map[int64]AccountState
	if s.sync != nil {
		states = s.sync.AccountStates()
	}
	for _, a := range accounts {
		st, ok := states[a.ID]
		if !ok {
			st = AccountState{State: "stopped"}
		}
		st.ID, st.Name, st.Messages = a.ID, a.Name, counts[a.ID]
		if st.LastChange.IsZero() {
			st.LastChange = a.UpdatedAt
		}
		out.Accounts = append(out.Accounts, st)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}
