//go:build tools

// Package tools pins the S3-compatible object store the artifact tests run (Versity's
// S3 gateway over a directory, built by test/s3server into ~/.cache/flok/versitygw).
package tools

import _ "github.com/versity/versitygw/cmd/versitygw"
