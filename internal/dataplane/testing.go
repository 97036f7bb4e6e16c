package dataplane

import (
	"os"
	"testing"
)

// RequireEngine skips a test when an engine's binaries are missing, naming the install
// command; with CI=true the test fails instead, so CI cannot pass without the data plane.
func RequireEngine(t testing.TB, engines ...string) {
	t.Helper()
	for _, e := range engines {
		if err := Check(e); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%v (CI=true: the data-plane tests must run; install with: %s)", err, InstallCommand)
			}
			t.Skipf("%v; install with: %s", err, InstallCommand)
		}
	}
}
