// Package simtest runs the RDS/KMS simulator for tests and builds real aws-sdk-go-v2 clients
// pointed at it.
//
// The endpoint comes from one place: when the environment variable RDSSIM_ENDPOINT is set,
// the harness uses that server (another simulator implementation, or cmd/rdssim) and drives it
// through its /_sim/ control endpoints; otherwise it starts the in-process simulator on an
// httptest server.
package simtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

// EnvEndpoint names the environment variable that points the harness at an external server.
const EnvEndpoint = "RDSSIM_ENDPOINT"

// Harness is a running simulator plus client factories.
type Harness struct {
	URL string
	// Sim is the in-process simulator, nil when RDSSIM_ENDPOINT points elsewhere.
	Sim *rdssim.Sim
	t   testing.TB
}

// Start starts a simulator for the test (or connects to RDSSIM_ENDPOINT and resets it) and
// stops it when the test ends.
func Start(t testing.TB, opts rdssim.Options) *Harness {
	t.Helper()
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		h := &Harness{URL: ep, t: t}
		h.control(http.MethodPost, "/_sim/reset", nil, nil)
		return h
	}
	sim := rdssim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = sim.Close() }) // runs first: the data plane's servers stop before the HTTP server
	return &Harness{URL: srv.URL, Sim: sim, t: t}
}

// Retryer is the retry policy of the harness clients: the SDK's standard retryer with
// millisecond backoff, more attempts, and no client-side retry quota.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 10
		o.MaxBackoff = 20 * time.Millisecond
		o.RateLimiter = ratelimit.None
	})
}

// APIOptions are the middlewares of the harness clients, for any SDK client a test points at
// a simulator: the request-body guard of awsclient, without which a response can be cut off
// and a call applied twice (see awsclient.GuardRequestBody).
func APIOptions() []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{awsclient.GuardRequestBody}
}

// Credentials are static dummy credentials, so requests carry a SigV4 scope with the region.
var Credentials = credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", "")

// RDS returns an RDS client for the region.
func (h *Harness) RDS(region string, optFns ...func(*rds.Options)) *rds.Client {
	return rds.New(rds.Options{
		Region:       region,
		BaseEndpoint: aws.String(h.URL),
		Credentials:  Credentials,
		Retryer:      Retryer(),
		APIOptions:   APIOptions(),
	}, optFns...)
}

// KMS returns a KMS client for the region.
func (h *Harness) KMS(region string, optFns ...func(*kms.Options)) *kms.Client {
	return kms.New(kms.Options{
		Region:       region,
		BaseEndpoint: aws.String(h.URL),
		Credentials:  Credentials,
		Retryer:      Retryer(),
		APIOptions:   APIOptions(),
	}, optFns...)
}

// EC2 returns an EC2 client for the region (security groups).
func (h *Harness) EC2(region string, optFns ...func(*ec2.Options)) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:       region,
		BaseEndpoint: aws.String(h.URL),
		Credentials:  Credentials,
		Retryer:      Retryer(),
		APIOptions:   APIOptions(),
	}, optFns...)
}

// CloudWatch returns a CloudWatch client for the region (GetMetricData).
func (h *Harness) CloudWatch(region string, optFns ...func(*cloudwatch.Options)) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{
		Region:       region,
		BaseEndpoint: aws.String(h.URL),
		Credentials:  Credentials,
		Retryer:      Retryer(),
		APIOptions:   APIOptions(),
	}, optFns...)
}

// SecretsManager returns a Secrets Manager client for the region (RDS-managed secrets).
func (h *Harness) SecretsManager(region string, optFns ...func(*secretsmanager.Options)) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:       region,
		BaseEndpoint: aws.String(h.URL),
		Credentials:  Credentials,
		Retryer:      Retryer(),
		APIOptions:   APIOptions(),
	}, optFns...)
}

// Workload sets the application load on an instance identifier (rdssim.Sim.SetWorkload).
func (h *Harness) Workload(region, id string, w rdssim.Workload) {
	h.t.Helper()
	if h.Sim != nil {
		if err := h.Sim.SetWorkload(region, id, w); err != nil {
			h.t.Fatalf("simtest: workload: %v", err)
		}
		return
	}
	h.control(http.MethodPost, "/_sim/workload", rdssim.ClientRequest{Region: region, ID: id, Workload: w}, nil)
}

// HoldSession opens n sessions on an instance that no reboot ends (rdssim.Sim.HoldSession).
func (h *Harness) HoldSession(region, id string, n int) {
	h.t.Helper()
	if h.Sim != nil {
		if err := h.Sim.HoldSession(region, id, n); err != nil {
			h.t.Fatalf("simtest: hold session: %v", err)
		}
		return
	}
	h.control(http.MethodPost, "/_sim/hold-session", rdssim.ClientRequest{Region: region, ID: id, Sessions: n}, nil)
}

// Connect makes one new application connection attempt to instance id; nil when it connects.
func (h *Harness) Connect(region, id string) error {
	h.t.Helper()
	if h.Sim != nil {
		return h.Sim.Connect(region, id)
	}
	var out struct{ Status, Error string }
	h.control(http.MethodPost, "/_sim/connect", rdssim.ClientRequest{Region: region, ID: id}, &out)
	if out.Status != "connected" {
		return errors.New(out.Error)
	}
	return nil
}

// Attach puts an attachment on a DB instance or cluster (rdssim.Sim.Attach).
func (h *Harness) Attach(region string, a rdssim.Attachment) {
	h.t.Helper()
	if h.Sim != nil {
		if err := h.Sim.Attach(region, a); err != nil {
			h.t.Fatalf("simtest: attach: %v", err)
		}
		return
	}
	h.control(http.MethodPost, "/_sim/attach", struct {
		Region string `json:"Region"`
		rdssim.Attachment
	}{region, a}, nil)
}

// Advance moves the virtual clock forward.
func (h *Harness) Advance(d time.Duration) {
	if h.Sim != nil {
		h.Sim.Advance(d)
		return
	}
	h.control(http.MethodPost, fmt.Sprintf("/_sim/advance?seconds=%g", d.Seconds()), nil, nil)
}

// Events returns the simulator's state changes.
func (h *Harness) Events() []rdssim.Event {
	if h.Sim != nil {
		return h.Sim.Events()
	}
	var ev []rdssim.Event
	h.control(http.MethodGet, "/_sim/events", nil, &ev)
	return ev
}

// Calls returns the per-action call counts.
func (h *Harness) Calls() map[string]int {
	if h.Sim != nil {
		return h.Sim.Calls()
	}
	var st rdssim.Stats
	h.control(http.MethodGet, "/_sim/stats", nil, &st)
	return st.Calls
}

// Faults installs faults.
func (h *Harness) Faults(fr rdssim.FaultRequest) {
	if h.Sim != nil {
		if err := h.Sim.ApplyFaults(fr); err != nil {
			h.t.Fatalf("simtest: faults: %v", err)
		}
		return
	}
	h.control(http.MethodPost, "/_sim/faults", fr, nil)
}

// Now returns the simulator's virtual time.
func (h *Harness) Now() time.Time {
	if h.Sim != nil {
		return h.Sim.Now()
	}
	var out struct{ Time time.Time }
	h.control(http.MethodGet, "/_sim/health", nil, &out)
	return out.Time
}

func (h *Harness) control(method, path string, in, out any) {
	h.t.Helper()
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			h.t.Fatalf("simtest: %v", err)
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.URL+path, &body)
	if err != nil {
		h.t.Fatalf("simtest: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("simtest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("simtest: %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			h.t.Fatalf("simtest: decoding %s: %v", path, err)
		}
	}
}
