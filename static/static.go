// Package static serves Sportello's own CSS, JavaScript and icons, embedded
// in the binary, plus the third-party scripts that `make static` copies from
// node_modules into vendor/ (git-ignored).
package static

import (
	"embed"
	"net/http"
)

//go:embed *.css *.js *.svg *.webmanifest all:vendor
var files embed.FS

// Handler serves the files; they change only with the binary.
func Handler() http.Handler {
	fs := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fs.ServeHTTP(w, r)
	})
}
