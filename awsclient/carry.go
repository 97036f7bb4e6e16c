package awsclient

import "fmt"

// setter copies one setting from want (and, for modify calls, the current value) into an
// SDK input.
type setter[In, S any] func(in *In, want, current S)

// carrySettings fills in from want for exactly the named settings, refusing a setting the
// route table does not allow for this call or that has no mapping for it.
func carrySettings[In, S any](op, resource string, table []Route, allowed func(Route) bool,
	setters map[Setting]setter[In, S], in *In, want, current S, fields []Setting,
) error {
	for _, f := range fields {
		route, ok := RouteOf(table, f)
		if !ok || !allowed(route) {
			return &Error{Kind: KindInvalidParameter, Op: op, Resource: resource,
				Message: fmt.Sprintf("setting %s cannot be passed to %s", f, op)}
		}
		set, ok := setters[f]
		if !ok {
			return &Error{Kind: KindInvalidParameter, Op: op, Resource: resource,
				Message: fmt.Sprintf("setting %s has no mapping to %s", f, op)}
		}
		set(in, want, current)
	}
	return nil
}

func allowsRestore(r Route) bool { return r.Restore }
func allowsReplica(r Route) bool { return r.Replica }
func allowsModify(r Route) bool  { return r.Modify }
