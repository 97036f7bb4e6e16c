// Command rdsencrypt encrypts unencrypted Amazon RDS DB instances and Aurora clusters.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "rdsencrypt: not built yet")
	os.Exit(1)
}
