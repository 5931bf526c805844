package flinkrest

import (
	"strings"
)

// Endpoint is path as Flink's REST API documents it, its ids replaced by ":id" and
// its query dropped — "/jobs/:id/savepoints/:id" — a label of few values.
func Endpoint(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(path, "/")
	for i, part := range parts {
		if isID(part) || (i > 0 && parts[i-1] == "jars" && part != "upload") {
			parts[i] = ":id"
		}
	}
	return strings.Join(parts, "/")
}

// isID recognises Flink's ids: job, vertex and trigger ids (32 hexadecimal digits) and
// checkpoint ids (numbers).
func isID(s string) bool {
	if s == "" {
		return false
	}
	digits := strings.Trim(s, "0123456789") == ""
	hex := len(s) >= 16 && strings.Trim(s, "0123456789abcdefABCDEF") == ""
	return digits || hex
}
