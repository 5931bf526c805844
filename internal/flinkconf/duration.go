package flinkconf

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationUnits are Flink's time units (TimeUtils), by every name Flink accepts.
var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "nano": time.Nanosecond, "nanos": time.Nanosecond, "nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
	"µs": time.Microsecond, "us": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond, "microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond, "millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
}

// ParseDuration reads a Flink duration such as "30 s", "10min" or "500" (milliseconds,
// as Flink reads a bare number).
func ParseDuration(text string) (time.Duration, error) {
	s := strings.TrimSpace(text)
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, fmt.Errorf("duration %q: want a whole number and a unit, such as 30s, 10 min or 1h", text)
	}
	n, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("duration %q: the number is too large", text)
	}
	unit := strings.ToLower(strings.TrimSpace(s[end:]))
	if unit == "" {
		unit = "ms"
	}
	d, ok := durationUnits[unit]
	if !ok {
		return 0, fmt.Errorf("duration %q: unknown unit %q; use ms, s, min, h or d", text, unit)
	}
	if n > int64(1<<62)/int64(d) {
		return 0, fmt.Errorf("duration %q is too large", text)
	}
	return time.Duration(n) * d, nil
}
