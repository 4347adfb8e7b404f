package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"sportello/store"
)

// An event is one change pushed to browsers over SSE.
type event struct {
	ID      uint64
	Name    string // message, expunge, flags, counts
	Account int64
	Data    []byte
}

// replaySize is how many recent events a reconnecting browser can catch up
// on with Last-Event-ID; beyond it, it is told to refresh.
const replaySize = 1024

// hub turns the database's change notifications into SSE events for every
// connected browser of this process.
type hub struct {
	mu     sync.Mutex
	nextID uint64
	recent []event
	subs   map[chan event]struct{}
}

func newHub() *hub {
	// IDs start from the clock so that after a restart they are above any
	// a browser remembers: an unknown Last-Event-ID then means "refresh".
	return &hub{nextID: uint64(time.Now().UnixMilli()) * 1000, subs: map[chan event]struct{}{}}
}

func (h *hub) publish(name string, account int64, payload map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextID++
	payload["account"] = account
	data, _ := json.Marshal(payload)
	e := event{ID: h.nextID, Name: name, Account: account, Data: data}
	h.recent = append(h.recent, e)
	if len(h.recent) > replaySize {
		h.recent = h.recent[len(h.recent)-replaySize:]
	}
	for ch := range h.subs {
		select {
		case ch <- e:
		default: // a stalled browser misses it and refreshes on reconnect
		}
	}
}

// subscribe returns a channel of new events and the events after lastID;
// known is false when lastID is too old to replay.
func (h *hub) subscribe(lastID uint64) (ch chan event, missed []event, known bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch = make(chan event, 64)
	h.subs[ch] = struct{}{}
	if lastID == 0 {
		return ch, nil, true
	}
	if len(h.recent) == 0 || lastID < h.recent[0].ID-1 || lastID > h.nextID {
		return ch, nil, lastID == h.nextID
	}
	for _, e := range h.recent {
		if e.ID > lastID {
			missed = append(missed, e)
		}
	}
	return ch, missed, true
}

func (h *hub) unsubscribe(ch chan event) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// listen follows the change notifications until ctx ends, reconnecting
// when the database connection drops.
func (s *Server) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("change notifications interrupted; reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

func (s *Server) listenOnce(ctx context.Context) error {
	pc, err := s.store.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+store.ChannelChanges); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var c store.Change
		if err := json.Unmarshal([]byte(n.Payload), &c); err != nil {
			continue
		}
		ids := c.IDs
		if ids == nil {
			ids = []int64{}
		}
		s.hub.publish(c.Kind, c.Account, map[string]any{"folder": c.Folder, "ids": ids})
		s.hub.publish(store.ChangeCounts, c.Account, map[string]any{"folder": c.Folder, "ids": []int64{}})
	}
}

const heartbeat = 15 * time.Second

// events streams the changes of the accounts the user may see. Each event
// is checked against the user's roles as it is sent, so a revoked role
// stops the flow at once.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	rc := http.NewResponseController(w) // scs's writer has no Flush of its own
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	lastID, _ := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64)
	ch, missed, known := s.hub.subscribe(lastID)
	defer s.hub.unsubscribe(ch)

	allowed := func(account int64) bool {
		_, err := s.store.Users.RoleOn(ctx, u.ID, account)
		return err == nil
	}
	send := func(e event) bool {
		if !allowed(e.Account) {
			return true
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Name, e.Data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	fmt.Fprintf(w, "retry: 3000\n: hello\n\n")
	if !known {
		// Too much happened while away: have every list and count refresh.
		accounts, err := s.store.Users.AccountsOf(ctx, u.ID)
		if err == nil {
			for _, a := range accounts {
				data, _ := json.Marshal(map[string]any{"account": a.ID, "ids": []int64{}, "resync": true})
				fmt.Fprintf(w, "event: counts\ndata: %s\n\n", data)
			}
		}
	}
	for _, e := range missed {
		if !send(e) {
			return
		}
	}
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case e := <-ch:
			if !send(e) {
				return
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
