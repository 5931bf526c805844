package flinkdist

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// homeDirs are the parts of a Flink home that the PyPI packages carry.
var homeDirs = map[string]bool{"bin": true, "conf": true, "lib": true, "opt": true, "plugins": true, "log": true}

// homePath maps an archive entry to its place in a Flink home, or "" to skip it. Wheels
// hold the home under pyflink/, source archives of apache-flink-libraries under
// <name>/deps/.
func homePath(entry string) string {
	parts := strings.Split(filepath.ToSlash(entry), "/")
	for i := 0; i+1 < len(parts); i++ {
		if (parts[i] == "pyflink" || parts[i] == "deps") && homeDirs[parts[i+1]] {
			rel := filepath.Join(parts[i+1:]...)
			if !filepath.IsLocal(rel) {
				return ""
			}
			return rel
		}
	}
	return ""
}

// extractHome unpacks the home parts of a wheel (.whl) or source archive (.tar.gz).
func extractHome(archive, home string) error {
	if strings.HasSuffix(archive, ".whl") {
		return extractZip(archive, home)
	}
	return extractTarGz(archive, home)
}

func extractZip(archive, home string) error {
	z, err := zip.OpenReader(archive)
	if err != nil {
		return err
	}
	defer z.Close()
	for _, f := range z.File {
		rel := homePath(f.Name)
		if rel == "" || f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		err = writeFile(filepath.Join(home, rel), rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func extractTarGz(archive, home string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rel := homePath(hdr.Name)
		if rel == "" || hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := writeFile(filepath.Join(home, rel), tr); err != nil {
			return err
		}
	}
}

func writeFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// makeScriptsExecutable restores the exec bits that pip packages do not keep.
func makeScriptsExecutable(bin string) error {
	entries, err := os.ReadDir(bin)
	if err != nil {
		return fmt.Errorf("the packages hold no bin/ directory: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			if err := os.Chmod(filepath.Join(bin, e.Name()), 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}
