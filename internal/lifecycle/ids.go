package lifecycle

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// newID derives a 32-hex-digit id (the form of Flink's job and trigger ids) from the
// resource, a purpose and the time: unique per deployment and moment, and the same
// if a decision is made again from the same input.
func newID(uid types.UID, purpose string, now time.Time) string {
	sum := sha256.Sum256([]byte(string(uid) + "/" + purpose + "/" + strconv.FormatInt(now.UnixNano(), 10)))
	return hex.EncodeToString(sum[:16])
}
