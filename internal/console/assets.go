package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// web holds the console's page, script and style: embedded, so that the console works
// where nothing may be fetched from the internet.
//
//go:embed web
var web embed.FS

// contentSecurityPolicy lets pages run the console's own script and style only.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// assets serves the embedded files; any other path is a page of the console's, which
// index.html draws from the address.
func assets() http.Handler {
	root, _ := fs.Sub(web, "web")
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the console's pages are read with GET", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.Header().Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			r.URL.Path = "/"
		}
		files.ServeHTTP(w, r)
	})
}
