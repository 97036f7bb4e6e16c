package awsclient

import (
	"fmt"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// setter copies one setting from want (and, for modify calls, the current value) into an
// SDK input.
type setter[In, S any] func(in *In, want, current S)

// carrySettings fills in from want for exactly the named settings, refusing a setting the
// route table does not allow for this call or that has no mapping for it.
func carrySettings[In, S any](op, resource string, table []model.Route, allowed func(model.Route) bool,
	setters map[model.Setting]setter[In, S], in *In, want, current S, fields []model.Setting,
) error {
	for _, f := range fields {
		route, ok := model.RouteOf(table, f)
		if !ok || !allowed(route) {
			return &model.Error{Failure: model.FailureInvalidParameter, Op: op, Resource: resource,
				Message: fmt.Sprintf("setting %s cannot be passed to %s", f, op)}
		}
		set, ok := setters[f]
		if !ok {
			return &model.Error{Failure: model.FailureInvalidParameter, Op: op, Resource: resource,
				Message: fmt.Sprintf("setting %s has no mapping to %s", f, op)}
		}
		set(in, want, current)
	}
	return nil
}

func allowsRestore(r model.Route) bool { return r.Restore }
func allowsReplica(r model.Route) bool { return r.Replica }
func allowsModify(r model.Route) bool  { return r.Modify }
