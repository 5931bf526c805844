package flinkdist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flok-dev/flok/test/toolcache"
)

// recipe changes whenever the way a home is assembled changes, so cached homes of an
// older recipe are rebuilt.
const recipe = 1

// CacheDirEnv overrides where homes are cached (default: the user cache directory,
// ${XDG_CACHE_HOME:-~/.cache}/flok/flink).
const CacheDirEnv = "FLOK_FLINK_CACHE"

// Home is a provisioned Flink home, laid out like the official image's /opt/flink.
type Home struct {
	// Dir is the FLINK_HOME: bin/, conf/, lib/, opt/, plugins/, log/, examples/.
	Dir     string
	Release Release
}

// ExampleJar is the path of an example job jar, such as TopSpeedWindowing.
func (h *Home) ExampleJar(name string) string {
	return filepath.Join(h.Dir, "examples", "streaming", name+".jar")
}

// Provision returns the cached home of a release, assembling it first if needed:
// downloads with pip and Maven, SHA-256 checks, unpacking. Concurrent callers (parallel
// test packages) wait on a lock; the home appears by an atomic rename, complete or not
// at all (toolcache).
func Provision(ctx context.Context, r Release) (*Home, error) {
	dir, err := toolcache.Dir(ctx, "flink", r.Version+"-"+r.key(), CacheDirEnv, func(ctx context.Context, work string) (string, error) {
		if err := assemble(ctx, r, work); err != nil {
			return "", fmt.Errorf("provision Flink %s: %w", r.Version, err)
		}
		return filepath.Join(work, "home"), nil
	})
	if err != nil {
		return nil, err
	}
	return &Home{Dir: dir, Release: r}, nil
}

// key hashes everything that decides a home's content.
func (r Release) key() string {
	data, _ := json.Marshal(struct {
		Release Release
		Recipe  int
	}{r, recipe})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:5])
}

// assemble builds a home in work/home.
func assemble(ctx context.Context, r Release, work string) error {
	downloads := filepath.Join(work, "downloads")
	home := filepath.Join(work, "home")
	python := r.Python
	if python == "" {
		python = "3.11"
	}
	if err := pipDownload(ctx, downloads, "apache-flink=="+r.Version, python); err != nil {
		return err
	}
	if err := pipDownload(ctx, downloads, "apache-flink-libraries=="+r.Version, ""); err != nil {
		return err
	}
	for _, a := range []Artifact{r.Scripts, r.Libraries} {
		path := filepath.Join(downloads, a.File)
		if err := verify(path, a.SHA256); err != nil {
			return err
		}
		if err := extractHome(path, home); err != nil {
			return fmt.Errorf("unpack %s: %w", a.File, err)
		}
	}
	if err := makeScriptsExecutable(filepath.Join(home, "bin")); err != nil {
		return err
	}
	for name, sum := range r.Examples {
		if err := fetchExample(ctx, r.ExamplesVersion, name, r.WholeExamples[name], sum, downloads, home); err != nil {
			return err
		}
	}
	for artifact, sum := range r.ExampleLibs {
		name := strings.Join(strings.Split(artifact, ":")[1:3], "-") + ".jar"
		if err := fetchJar(ctx, artifact, sum, downloads, filepath.Join(home, "lib", name)); err != nil {
			return err
		}
	}
	for artifact, sum := range r.Opt {
		if err := fetchJar(ctx, artifact, sum, downloads, filepath.Join(home, "opt", r.optFile(artifact))); err != nil {
			return err
		}
	}
	return nil
}

// S3Plugin is the file name of the home's S3 file system plugin in opt/, as
// ENABLE_BUILT_IN_PLUGINS names it; "" when the release has none.
func (r Release) S3Plugin() string {
	for artifact := range r.Opt {
		if strings.Split(artifact, ":")[1] == "flink-s3-fs-hadoop" {
			return r.optFile(artifact)
		}
	}
	return ""
}

// optFile names a jar of Opt in opt/ as the official image does:
// <artifact>-<the home's version>.jar.
func (r Release) optFile(artifact string) string {
	return strings.Split(artifact, ":")[1] + "-" + r.Version + ".jar"
}

// pipDownload fetches one package without its dependencies. The scripts wheel is
// platform-tagged; pinning the tag (for a Python version: "3.11") makes every machine
// fetch the same file.
func pipDownload(ctx context.Context, dir, requirement, wheelPython string) error {
	args := []string{"-m", "pip", "download", "--quiet", "--no-deps", "--dest", dir}
	if wheelPython != "" {
		abi := "cp" + strings.ReplaceAll(wheelPython, ".", "")
		args = append(args, "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
			"--python-version", wheelPython, "--implementation", "cp", "--abi", abi)
	}
	return run(ctx, "python3", append(args, requirement)...)
}

// fetchExample copies flink-examples-streaming:<version>:jar:<name> (or, whole, the
// module's main jar) from Maven Central into examples/streaming/<name>.jar, where the
// official image has it.
func fetchExample(ctx context.Context, version, name string, whole bool, sum, downloads, home string) error {
	artifact := "org.apache.flink:flink-examples-streaming:" + version
	if !whole {
		artifact += ":jar:" + name
	}
	return fetchJar(ctx, artifact, sum, downloads, filepath.Join(home, "examples", "streaming", name+".jar"))
}

// fetchJar copies the jar of a Maven artifact (group:artifact:version[:jar:classifier])
// from Maven Central to dst, checking its SHA-256. Plugin 2.8 copies the jar without
// resolving its parent POMs, which not every mirror carries.
func fetchJar(ctx context.Context, artifact, sum, downloads, dst string) error {
	if err := run(ctx, "mvn", "--batch-mode", "--quiet",
		"org.apache.maven.plugins:maven-dependency-plugin:2.8:copy",
		"-Dartifact="+artifact, "-DoutputDirectory="+downloads); err != nil {
		return err
	}
	parts := strings.Split(artifact, ":")
	file := parts[1] + "-" + parts[2]
	if len(parts) == 5 {
		file += "-" + parts[4]
	}
	src := filepath.Join(downloads, file+".jar")
	if err := verify(src, sum); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.Rename(src, dst)
}

func verify(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: SHA-256 is %s, expected %s: the download is corrupt or the registry serves another file", filepath.Base(path), got, want)
	}
	return nil
}

func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w\n%s", name, args, err, out)
	}
	return nil
}
