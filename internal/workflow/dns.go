package workflow

import (
	"context"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// DNS after cutover (RDS User Guide, "Renaming a DB instance": the old name's DNS record is
// deleted at once but may stay cached, and the new name "becomes effective in about 10
// minutes"). Before saying writes may resume, the tool resolves the original endpoint name
// from where it runs and waits until it points where the new instance's temporary name
// pointed before the rename; when the names are not resolvable from here (a private zone,
// no network), it says so and the operator checks from the applications' network. The same
// holds for an Aurora cluster's writer and reader endpoints, and for each read replica's
// endpoint once its replacement has taken its name (replica_steps.go).

// Resolver looks up host names (net.Resolver implements it).
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Unresolvable is a Resolver for endpoint names that no DNS serves, with why: the demo's
// embedded simulator makes its names up. The report then says why instead of asking the
// operator to check from the applications' network, which would be no use there.
type Unresolvable struct{ Why string }

// LookupHost answers that the name does not exist, as a resolver would.
func (u Unresolvable) LookupHost(_ context.Context, host string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// dnsWaitLimit bounds the wait for the endpoint name to follow the rename.
const dnsWaitLimit = 20 * time.Minute

func (e *Engine) resolver() Resolver {
	if e.Resolver != nil {
		return e.Resolver
	}
	return net.DefaultResolver
}

// noteTargetAddresses resolves the new instance's (or cluster's writer) temporary endpoint
// before it is renamed.
func (r *run) noteTargetAddresses(ctx context.Context, host string) {
	if len(r.st.TargetAddrs) == 0 {
		r.st.TargetAddrs = r.addressesOf(ctx, host)
	}
}

// noteReaderAddresses resolves the new cluster's reader endpoint and its members' endpoints
// before their rename: a reader endpoint's name points at one of the cluster's instances,
// not always the same, so after the rename it must resolve to any of them.
func (r *run) noteReaderAddresses(ctx context.Context, cl *model.Cluster) error {
	j := r.journal()
	if len(j.ReaderTargetAddrs) > 0 {
		return nil
	}
	hosts := []string{cl.ReaderEndpoint}
	for _, m := range j.Members {
		inst, err := r.newMember(ctx, m.ID)
		if err != nil {
			return err
		}
		if inst != nil {
			hosts = append(hosts, inst.Endpoint)
		}
	}
	j.ReaderTargetAddrs = r.addressesOf(ctx, hosts...)
	return nil
}

// addressesOf resolves the new resource's names before their rename and returns every
// address found: nil when none resolves from here.
func (r *run) addressesOf(ctx context.Context, hosts ...string) []string {
	var out []string
	for _, h := range hosts {
		if h == "" {
			continue
		}
		if addrs, err := r.e.resolver().LookupHost(ctx, h); err == nil {
			for _, a := range addrs {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// awaitEndpointDNS waits, before writes resume, until the original endpoint name resolves to
// the new instance (for a cluster: the writer endpoint to the new writer, then the reader
// endpoint to one of the new cluster's instances), and records what it found in the
// journal (the report's dns line).
func (r *run) awaitEndpointDNS(ctx context.Context) error {
	what := "the new instance"
	if r.st.Kind == KindCluster {
		what = "the new cluster's writer"
	}
	line, err := r.awaitDNS(ctx, r.st.SourceAddr, r.st.TargetAddrs, what)
	if err != nil {
		return err
	}
	if j := r.st.Cluster; j != nil && j.ReaderAddr != "" {
		reader, err := r.awaitDNS(ctx, j.ReaderAddr, j.ReaderTargetAddrs, "the new cluster's instances")
		if err != nil {
			return err
		}
		line += "; " + reader
	}
	r.st.DNS = line
	return nil
}

// awaitDNS waits until host resolves to one of want, the addresses the new resource's names
// resolved to before the rename, and returns the report's line about it: what it found, or
// why it could not tell (nothing resolved from here, or caches still held the old address
// after dnsWaitLimit).
func (r *run) awaitDNS(ctx context.Context, host string, want []string, what string) (string, error) {
	line, err := r.followDNS(ctx, host, want, what)
	if err == nil {
		r.log("%s", line)
	}
	return line, err
}

func (r *run) followDNS(ctx context.Context, host string, want []string, what string) (string, error) {
	if net.ParseIP(host) != nil {
		// An address, not a name (the data-plane simulator's endpoints): there is no DNS
		// record to follow, and the address is the name's for good.
		return fmt.Sprintf("%s is an address, not a name: no DNS record to wait for", host), nil
	}
	if u, ok := r.e.resolver().(Unresolvable); ok && len(want) == 0 {
		return fmt.Sprintf("%s: %s", host, u.Why), nil
	}
	if len(want) == 0 {
		return fmt.Sprintf("%s: %s's address was not resolvable from here; check from the applications' network that %s resolves to %s before resuming writes", host, what, host, what), nil
	}
	deadline := time.Now().Add(dnsWaitLimit)
	wait := max(r.e.Poll.Min, 10*time.Millisecond)
	for {
		addrs, err := r.e.resolver().LookupHost(ctx, host)
		if err == nil && slices.ContainsFunc(addrs, func(a string) bool { return slices.Contains(want, a) }) {
			return fmt.Sprintf("%s resolves to %s (%s)", host, what, addrs[0]), nil
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("%s still resolved to %v after %s, not to %s (%v): caches may still hold the old address", host, addrs, dnsWaitLimit, what, want), nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, max(r.e.Poll.Max, time.Second))
	}
}
