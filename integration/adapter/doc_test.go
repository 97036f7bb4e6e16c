// Package simulated runs every awsclient method over HTTP against the RDS/KMS simulator
// (integration/rdssim), with the real SDK clients, static dummy credentials (so SigV4
// carries the region) and the simulator's virtual clock.
package adapter_test
