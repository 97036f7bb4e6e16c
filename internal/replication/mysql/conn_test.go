package mysql

import (
	"context"
	"strings"
	"testing"
)

// An IAM token goes through the cleartext plugin, so it is never sent without verified TLS:
// Open refuses before dialling.
func TestCleartextTokenNeedsVerifiedTLS(t *testing.T) {
	for _, mode := range []string{TLSPreferred, TLSOff} {
		_, err := Open(context.Background(), Endpoint{Host: "127.0.0.1", Port: 1, User: "migrator", Password: "token", TLS: mode, Cleartext: true})
		if err == nil || !strings.Contains(err.Error(), "only over verified TLS") {
			t.Fatalf("TLS %s with a token: %v", mode, err)
		}
	}
}
