package embedpg

import (
	"net"
	"time"
)

func dialSocket(path string) (net.Conn, error) {
	return net.DialTimeout("unix", path, time.Second)
}
