package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"time"
)

// CheckEndpointURL says, in one line with the fix, what is wrong with an --endpoint-url
// value, or returns nil: the SDK would otherwise fail every call with "failed to resolve
// service endpoint" (no scheme) or go on to the default endpoint.
func CheckEndpointURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--endpoint-url %q is not a URL with a scheme: write it as http://HOST:PORT or https://HOST", raw)
	}
	return nil
}

// checkBudget bounds Check: a person is waiting for the first line of output.
const checkBudget = 5 * time.Second

// Check finds, before the first AWS call, the two faults that otherwise surface after
// retries as an SDK error blamed on the resource: an endpoint URL nothing answers at, and
// no credentials. Each is one line naming the cause and the fix.
func (c *Client) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkBudget)
	defer cancel()
	if c.cfg.EndpointURL != "" {
		if err := dialEndpoint(ctx, c.cfg.EndpointURL); err != nil {
			return err
		}
	}
	if c.aws.Credentials == nil {
		return errNoCredentials(nil)
	}
	if _, err := c.aws.Credentials.Retrieve(ctx); err != nil {
		return errNoCredentials(err)
	}
	return nil
}

// dialEndpoint opens and closes one TCP connection to the endpoint URL's host.
func dialEndpoint(ctx context.Context, raw string) error {
	if err := CheckEndpointURL(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	host := u.Host
	if u.Port() == "" {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", host)
	if err == nil {
		_ = conn.Close()
		return nil
	}
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("nothing answers at --endpoint-url %s (connection refused): start the simulator there (go run ./cmd/rdssim --addr %s) or correct the URL", raw, u.Host)
	case errors.As(err, &dns):
		return fmt.Errorf("--endpoint-url %s: host %s not found (DNS): correct the URL", raw, u.Hostname())
	}
	return fmt.Errorf("cannot connect to --endpoint-url %s (%v): check the URL and the network", raw, err)
}

func errNoCredentials(cause error) error {
	msg := "no AWS credentials found (environment, shared credentials and config files, SSO, container or instance role): run aws configure or set AWS_PROFILE (the simulator accepts any pair: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to, say, test)"
	if cause == nil {
		return errors.New(msg)
	}
	return &credentialsError{msg: msg, cause: cause}
}

// credentialsError keeps the SDK's cause for --debug and errors.Is, but says one line.
type credentialsError struct {
	msg   string
	cause error
}

func (e *credentialsError) Error() string { return e.msg }
func (e *credentialsError) Unwrap() error { return e.cause }
