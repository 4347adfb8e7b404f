package store

import (
	"context"
	"fmt"
)

// DeleteExpiredSessions removes web sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.Pool.Exec(ctx, "DELETE FROM sessions WHERE expiry < now()")
	if err != nil {
		return 0, fmt.Errorf("store: unable to delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
