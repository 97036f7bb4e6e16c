// Command rdssim runs the RDS/KMS simulator standalone.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "rdssim: not built yet")
	os.Exit(1)
}
