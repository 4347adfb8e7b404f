package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

type config struct {
	Addr         string
	DatabaseURL  string
	DataDir      string
	SecretKey    string
	BodyCacheMax int64 // bytes; 0 means the default
}

func loadConfig() config {
	c := config{
		Addr:        os.Getenv("SPORTELLO_ADDR"),
		DatabaseURL: os.Getenv("DATABASE_URL"),
		DataDir:     os.Getenv("SPORTELLO_DATA"),
		SecretKey:   os.Getenv("SPORTELLO_SECRET_KEY"),
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if mb, err := strconv.ParseInt(os.Getenv("SPORTELLO_BODY_CACHE_MB"), 10, 64); err == nil && mb > 0 {
		c.BodyCacheMax = mb << 20
	}
	return c
}

// secretKey returns the 32-byte key for mailbox credentials: from
// SPORTELLO_SECRET_KEY (32 bytes in base64 or hex, or any passphrase, which
// is hashed), else from the key file, created 0600 on first use.
func (c config) secretKey() ([]byte, error) {
	if c.SecretKey != "" {
		return decodeKey(c.SecretKey), nil
	}
	path := filepath.Join(c.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeKey(strings.TrimSpace(string(b))), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the key file %s cannot be read: %w", path, err)
	}
	if err := os.MkdirAll(c.DataDir, 0o711); err != nil {
		return nil, fmt.Errorf("the data folder %s cannot be created: %w", c.DataDir, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process just made it
		return c.secretKey()
	}
	if err != nil {
		return nil, fmt.Errorf("the data folder %s is not writable: %w", c.DataDir, err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		return nil, fmt.Errorf("the key file %s cannot be written: %w", path, err)
	}
	return key, nil
}

func decodeKey(s string) []byte {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b
	}
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// readSecret reads one line from stdin: passwords never travel in argv.
func readSecret(stdin io.Reader, what string) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no %s on standard input: pipe it in, e.g. `echo \"$PASSWORD\" | sportello ...`", what)
	}
	return line, nil
}
