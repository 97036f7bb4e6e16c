// Command rdsencrypt encrypts unencrypted Amazon RDS DB instances and Aurora clusters, or
// moves them to another KMS key, keeping every setting and the endpoint name.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], SystemStreams()))
}
