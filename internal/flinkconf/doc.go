// Package flinkconf is Flok's model of a Flink configuration: flat keys as Flink itself
// reads them, parsed from a flat map or nested YAML, merged in layers (operator
// defaults, version defaults, the user's values), and rendered as the file the Flink
// version reads — flink-conf.yaml (flat) before 1.19, config.yaml (standard nested YAML)
// from 1.19 on, where no key may also be the prefix of another. It also parses memory
// sizes the way Flink does. It is pure: no clients, no I/O.
package flinkconf
