package rdssim

import "strings"

// ResetDBParameterGroup (docs/aws-behaviour.md#parameter-groups), from the SDK v1.133.0 doc
// comments (api_op_ResetDBParameterGroup.go): "Modifies the parameters of a DB parameter group
// to the engine/system default value. To reset specific parameters, provide a list of the
// following: ParameterName and ApplyMethod. To reset the entire DB parameter group, specify
// the DBParameterGroup name and ResetAllParameters parameters." ResetAllParameters: "By
// default, all parameters in the DB parameter group are reset to default values" (the tool
// sends false with its Parameters; both together are refused here, UNVERIFIED). A reset parameter has no
// user value any more: DescribeDBParameters shows the engine default again, Source
// engine-default. Dynamic parameters reset with ApplyMethod immediate apply at once, like
// ModifyDBParameterGroup's. Default groups cannot be modified (InvalidParameterValue, as for
// ModifyDBParameterGroup).

func init() {
	registerRDS("ResetDBParameterGroup", resetParamGroup)
}

type resetParamGroupResult struct {
	DBParameterGroupName string
}

func resetParamGroup(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name := p.required("DBParameterGroupName")
	items, _ := p.structs("Parameters", "Parameter")
	resetAll := p.get("ResetAllParameters")
	all := resetAll == "true" || resetAll == "" && len(items) == 0
	if err := p.Err(); err != nil {
		return nil, err
	}
	pg := groups(r).paramGroup(strings.ToLower(name), false)
	if pg == nil {
		return nil, errParamGroupNotFoundKind(name, false)
	}
	if pg.isDefault {
		return nil, errInvalidValue("The parameter group %s is a default parameter group and cannot be modified.", pg.name)
	}
	if all && len(items) > 0 {
		return nil, errCombination("Specify either ResetAllParameters or Parameters")
	}
	defs := map[string]paramDef{}
	for _, d := range paramDefs(pg.family, false) {
		defs[d.Name] = d
	}
	var names []string
	for _, it := range items {
		n := it.get("ParameterName")
		d, ok := defs[n]
		if !ok {
			return nil, errInvalidValue("Could not find parameter with name: %s", n)
		}
		// "You can use the immediate value with dynamic parameters only" (the SDK's doc of
		// ResetDBParameterGroupInput.Parameters), as ModifyDBParameterGroup checks it.
		if it.get("ApplyMethod") == "immediate" && d.Static {
			return nil, errCombination("cannot use immediate apply method for static parameter")
		}
		names = append(names, n)
	}
	if all {
		for n := range pg.values {
			names = append(names, n)
		}
	}
	immediate, pendingReboot := map[string]string{}, false
	for _, n := range names {
		delete(pg.values, n)
		delete(pg.methods, n)
		if defs[n].Static {
			pendingReboot = true
		} else if v := defs[n].Default(pg.family); v != "" {
			immediate[n] = v // an engine default such as {TrueIfReplica}: each server resolves it
		}
	}
	s.dataApplyGroup(r, pg, immediate, pendingReboot)
	s.emit(c.now, r.name, pg.kind(), pg.name, s.rdsARN(r.name, pg.kind(), pg.name), "reset", c.action)
	return resetParamGroupResult{DBParameterGroupName: pg.name}, nil
}

// runningValue is the value server i runs with for a parameter value: MySQL/MariaDB's read_only
// default {TrueIfReplica} is 1 on a read replica, 0 on any other instance.
func runningValue(i *instance, v string) string {
	if v == "{TrueIfReplica}" {
		if i.source != nil {
			return "1"
		}
		return "0"
	}
	return v
}
