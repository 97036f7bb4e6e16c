package workflow

import (
	"context"
	"fmt"
	"net"
	"slices"
	"time"
)

// DNS after cutover (RDS User Guide, "Renaming a DB instance": the old name's DNS record is
// deleted at once but may stay cached, and the new name "becomes effective in about 10
// minutes"). Before saying writes may resume, the tool resolves the original endpoint name
// from where it runs and waits until it points where the new instance's temporary name
// pointed before the rename; when the names are not resolvable from here (a private zone,
// no network), it says so and the operator checks from the applications' network.

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

// noteTargetAddresses resolves the new instance's temporary endpoint before it is renamed.
func (r *run) noteTargetAddresses(ctx context.Context, host string) {
	if host == "" || len(r.st.TargetAddrs) > 0 {
		return
	}
	addrs, err := r.e.resolver().LookupHost(ctx, host)
	if err == nil {
		r.st.TargetAddrs = addrs
	}
}

// awaitEndpointDNS waits until the original endpoint name resolves to the new instance, and
// records what it found in the journal (the report's dns line).
func (r *run) awaitEndpointDNS(ctx context.Context) error {
	host := r.st.SourceAddr
	if u, ok := r.e.resolver().(Unresolvable); ok && len(r.st.TargetAddrs) == 0 {
		r.st.DNS = fmt.Sprintf("%s: %s", host, u.Why)
		r.log("%s", r.st.DNS)
		return nil
	}
	if len(r.st.TargetAddrs) == 0 {
		r.st.DNS = fmt.Sprintf("%s: the new instance's address was not resolvable from here; check from the applications' network that %s resolves to the new instance before resuming writes", host, host)
		r.log("%s", r.st.DNS)
		return nil
	}
	deadline := time.Now().Add(dnsWaitLimit)
	wait := max(r.e.Poll.Min, 10*time.Millisecond)
	for {
		addrs, err := r.e.resolver().LookupHost(ctx, host)
		if err == nil && slices.ContainsFunc(addrs, func(a string) bool { return slices.Contains(r.st.TargetAddrs, a) }) {
			r.st.DNS = fmt.Sprintf("%s resolves to the new instance (%s)", host, addrs[0])
			r.log("%s", r.st.DNS)
			return nil
		}
		if time.Now().After(deadline) {
			r.st.DNS = fmt.Sprintf("%s still resolved to %v after %s, not to the new instance (%v): caches may still hold the old address", host, addrs, dnsWaitLimit, r.st.TargetAddrs)
			r.log("%s", r.st.DNS)
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, max(r.e.Poll.Max, time.Second))
	}
}
