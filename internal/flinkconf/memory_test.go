package flinkconf

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseMemorySize(t *testing.T) {
	for text, want := range map[string]int64{
		"1600m":         1600 << 20,
		"1728M":         1728 << 20,
		"2 gb":          2 << 30,
		"1g":            1 << 30,
		"512 mebibytes": 512 << 20,
		"64k":           64 << 10,
		"1073741824":    1 << 30,
		"100b":          100,
		" 1 t ":         1 << 40,
	} {
		got, err := ParseMemorySize(text)
		require.NoError(t, err, text)
		require.Equal(t, want, got, text)
	}
	for text, msg := range map[string]string{
		"":                     "want a whole number",
		"m":                    "want a whole number",
		"1.5g":                 `unknown unit ".5g"`,
		"10 lbs":               `unknown unit "lbs"`,
		"-1g":                  "want a whole number",
		"99999999999999999999": "too large",
		"9999999999999t":       "too large",
	} {
		_, err := ParseMemorySize(text)
		require.ErrorContains(t, err, msg, text)
	}
}

func TestMemoryQuantity(t *testing.T) {
	q, err := MemoryQuantity("1600m")
	require.NoError(t, err)
	require.Equal(t, "1600Mi", q.String())
	q, err = MemoryQuantity("1g")
	require.NoError(t, err)
	require.Equal(t, "1Gi", q.String())
	_, err = MemoryQuantity("1 parsec")
	require.Error(t, err)
}

func FuzzParseMemorySize(f *testing.F) {
	for _, seed := range []string{"1600m", "2 gb", "", "1.5g", "9999999999999t", "0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, err := ParseMemorySize(text)
		if err == nil && n < 0 {
			t.Fatalf("%q parsed to a negative size %d", text, n)
		}
	})
}
