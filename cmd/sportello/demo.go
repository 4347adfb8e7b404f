package main

import (
	"context"
	"errors"
	"io"
)

func demo(ctx context.Context, cfg config, stdout io.Writer) error {
	return errors.New("demo: not built yet")
}
