// Package flinkdist provisions real Apache Flink distributions for Flok's tests and demo,
// and starts plain local Flink clusters from them.
//
// A Flink home is assembled from PyPI — apache-flink (bin/, conf/) and
// apache-flink-libraries (lib/, opt/, plugins/) of one version — plus the example job
// jars from Maven Central, laid out like the official image's /opt/flink so that YAML
// written for a real cluster works unchanged (examples/streaming/TopSpeedWindowing.jar).
// Homes are cached outside the repository, keyed by version and verified by SHA-256.
package flinkdist
