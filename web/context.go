package web

import (
	"context"

	"sportello/store"
)

func withUser(ctx context.Context, u *store.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}
