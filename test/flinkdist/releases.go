package flinkdist

import (
	"fmt"
	"slices"
	"strings"
)

// Release pins one Flink version: the PyPI files that form its home and the example
// jars from Maven Central, each with its SHA-256.
type Release struct {
	// Version is the full Flink version of the home, e.g. "1.20.5".
	Version string
	// Scripts is the apache-flink wheel (bin/, conf/). It is platform-tagged only
	// because of PyFlink's native parts, which a Java home does not use; the tag is
	// pinned so that every machine fetches the same file.
	Scripts Artifact
	// Libraries is the apache-flink-libraries package (lib/, opt/, plugins/): a wheel
	// for 2.2 and later, a source archive before.
	Libraries Artifact
	// Python is the Python version the scripts wheel is tagged for ("" is 3.11): older
	// Flink releases were not built for the newer Pythons.
	Python string `json:",omitempty"` // omitted when empty: the cache keys of other releases stay
	// ExamplesVersion is the Maven version of org.apache.flink:flink-examples-streaming.
	// Maven Central does not carry every patch release of the examples; a job compiled
	// against an earlier patch of the same minor version runs unchanged.
	ExamplesVersion string
	// Examples maps an example's classifier (TopSpeedWindowing) to the SHA-256 of its jar.
	Examples map[string]string
	// WholeExamples names the examples Maven Central has no jar of their own for: the
	// module's main jar, which holds every example, is used instead (its manifest names
	// no entry class: a job must give job.entryClass).
	WholeExamples map[string]bool `json:",omitempty"`
	// ExampleLibs are Maven jars (group:artifact:version → SHA-256) put into lib/: the
	// connectors the examples' own jars bundle and the main jar of WholeExamples lacks.
	ExampleLibs map[string]string `json:",omitempty"`
	// Opt are Maven jars (group:artifact:version → SHA-256) put into opt/ as
	// <artifact>-<Version>.jar, as the official image has them: the optional plugins
	// that ENABLE_BUILT_IN_PLUGINS turns on (the S3 file system that fetches a jar from
	// S3), and the SQL gateway, which Flink's SqlDriver runs SQL applications with. (Its
	// JSON name is that of the cached homes' keys.)
	Opt map[string]string `json:"OptPlugins,omitempty"`
}

// Artifact is one downloaded file and its expected SHA-256.
type Artifact struct {
	File   string
	SHA256 string
}

// The example jobs every home carries, at examples/streaming/<name>.jar.
const (
	TopSpeedWindowing = "TopSpeedWindowing"
	WordCount         = "WordCount"
)

// Flink1 is the newest Flink 1.x release: 1.20.
var Flink1 = Release{
	Version: "1.20.5",
	Scripts: Artifact{
		File:   "apache_flink-1.20.5-cp311-cp311-manylinux_2_5_x86_64.manylinux1_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		SHA256: "6e8ec098a7c06ea34d01fd540e81d44703a90e3bda74052dcbcbb7db5253c10f",
	},
	Libraries: Artifact{
		File:   "apache_flink_libraries-1.20.5.tar.gz",
		SHA256: "e6aee62ea1a1fe7b32e28894ad079f3f1a50a372a4caac3df52405267f4228c8",
	},
	ExamplesVersion: "1.20.0",
	Examples: map[string]string{
		TopSpeedWindowing: "99f1454e37176bab4fdf4d3c876742db6baf626f4996c32b4ac9ec38e3565493",
		WordCount:         "54d9426ef54ee5be93e77bd83eafea5e6cfbc34644e5555085cb72a239ccb932",
	},
	Opt: map[string]string{
		"org.apache.flink:flink-s3-fs-hadoop:1.20.0": "5afe2cbf7496870e4f9a31c91fc029c35ab37c5b079afacab7a746afaf840d53",
	},
}

// Flink2 is the newest Flink 2.x release.
var Flink2 = Release{
	Version: "2.3.0",
	Scripts: Artifact{
		File:   "apache_flink-2.3.0-cp311-cp311-manylinux_2_5_x86_64.manylinux1_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		SHA256: "0e5f612704de1610b153e919c0564b62ad513cddfcf4960f5a021658cdf41a13",
	},
	Libraries: Artifact{
		File:   "apache_flink_libraries-2.3.0-py2.py3-none-any.whl",
		SHA256: "38ece876553286b3a285cf344c2d2038f8a7ca10da5df54d5107250386d64151",
	},
	ExamplesVersion: "2.3.0",
	Examples: map[string]string{
		TopSpeedWindowing: "bd2beac8d438bcfad21a291f05c2882f983d55690e9468b759a5cc41cb59dbbe",
		WordCount:         "6cad045dfec9f83a288719a5448f81e101795ff12fc3b6f77e35e61a9c5bd4e3",
	},
	Opt: map[string]string{
		"org.apache.flink:flink-s3-fs-hadoop:2.3.0": "5a3de2daac49e9df1783367391f994dace3bfa18c168b45c3d4563decca7d3d0",
		"org.apache.flink:flink-sql-gateway:2.3.0":  "aad296a152dc367ddd70727f5a57dd61958cff3d8dceb1f947bf8d9705c8d724",
	},
}

// Flink118 is the newest release that reads flink-conf.yaml (Flink 1.19 moved to
// config.yaml): provisioned only by the tests of that format, not for every test.
var Flink118 = Release{
	Version: "1.18.1",
	Scripts: Artifact{
		File:   "apache_flink-1.18.1-cp310-cp310-manylinux1_x86_64.whl",
		SHA256: "f93cbc4d88e39135dd59d7d7cc2e2252dec4017c4943dd8ab62e117e953a2d15",
	},
	Libraries: Artifact{
		File:   "apache-flink-libraries-1.18.1.tar.gz",
		SHA256: "369ce11ab33e5e15cdd349db2f5412dcc2fad163b6a87aa93b927a3631bcca7f",
	},
	Python:          "3.10",
	ExamplesVersion: "1.18.1",
	Examples:        map[string]string{TopSpeedWindowing: "0d1ab415f5d56b4f267bdc0c2b9d02e6022607208f4390fde2d583aace27f33e"},
	WholeExamples:   map[string]bool{TopSpeedWindowing: true},
	// TopSpeedWindowing generates its input with the datagen source.
	ExampleLibs: map[string]string{
		"org.apache.flink:flink-connector-datagen:1.18.1": "0ec9070743fad9c4e8fd1b4fb1c0429c8abbfd7c2c71bb7219c41752221c56dc",
	},
}

// Releases are the Flink versions Flok is proven on, each by every end-to-end test.
var Releases = []Release{Flink1, Flink2}

// known are the releases images and Lookup can name: Releases and Flink118.
var known = append([]Release{Flink118}, Releases...)

// MinorVersion is "1.20" for "1.20.5".
func (r Release) MinorVersion() string {
	parts := strings.SplitN(r.Version, ".", 3)
	return parts[0] + "." + parts[1]
}

// Lookup finds the release for a version given as major ("2"), minor ("1.20") or full
// ("1.20.5"), the way image tags name them.
// A major version names the newest of Releases.
func Lookup(version string) (Release, error) {
	for _, r := range slices.Backward(known) {
		if version == r.Version || version == r.MinorVersion() || version == strings.SplitN(r.Version, ".", 2)[0] {
			return r, nil
		}
	}
	versions := make([]string, 0, len(known))
	for _, r := range known {
		versions = append(versions, r.Version)
	}
	return Release{}, fmt.Errorf("no provisioned Flink release matches %q (known: %s)", version, strings.Join(versions, ", "))
}
