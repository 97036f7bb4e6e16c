package rdssim

import (
	"maps"
	"strings"
)

// CopyDBParameterGroup and DeleteDBParameterGroup (docs/aws-behaviour.md#parameter-groups).
// The rules, from the SDK v1.133.0 doc comments (api_op_CopyDBParameterGroup.go,
// api_op_DeleteDBParameterGroup.go, types.AccountQuota):
//   - "You can't copy a default DB parameter group. Instead, create a new custom DB parameter
//     group, which copies the default parameters and values for the specified DB parameter
//     group family." The error code of the refusal is not documented: the simulator answers
//     InvalidParameterValue (UNVERIFIED).
//   - The source is "the identifier or ARN" of a valid DB parameter group
//     (DBParameterGroupNotFound otherwise); the target "must contain from 1 to 255 letters,
//     numbers, or hyphens; first character must be a letter; can't end with a hyphen or
//     contain two consecutive hyphens"; an existing target is DBParameterGroupAlreadyExists.
//   - The copy carries the source's parameter values; its tags are the request's (the source's
//     tags are not copied: the API has no CopyTags).
//   - DeleteDBParameterGroup: "You can't delete a default DB parameter group" and the group
//     "can't be associated with any DB instances": InvalidDBParameterGroupState.
//   - DBParameterGroups quota: "The number of DB parameter groups per account, excluding
//     default parameter groups" (per region, like every RDS quota); a create or copy past it
//     is DBParameterGroupQuotaExceeded.
//   - Not modelled: the settle time. The RDS API reference (CreateDBParameterGroup) asks to
//     "wait at least 5 minutes before creating your first DB instance that uses that DB
//     parameter group as the default parameter group", which "allows Amazon RDS to fully
//     complete the create action", and to verify the group with DescribeDBParameters; the
//     Aurora user guide says the same of a copy ("Copying a DB cluster parameter group"). That
//     is advice: what an early user or an early DescribeDBParameters sees is not documented,
//     so the simulator shows the copy's values at once and refuses no early use. The tool
//     waits and compares all the same (internal/workflow, settleGroupCopy); its tests plant a
//     difference by writing to the copy.

func init() {
	registerRDS("CopyDBParameterGroup", copyParamGroup)
	registerRDS("DeleteDBParameterGroup", deleteParamGroup)
}

// customParamGroups counts the region's non-default DB parameter groups.
func customParamGroups(r *region) int {
	n := 0
	for _, pg := range groups(r).params {
		if !pg.isDefault {
			n++
		}
	}
	return n
}

// checkParamGroupQuota refuses a new DB parameter group past the region's quota.
func (s *Sim) checkParamGroupQuota(r *region) *apiError {
	if customParamGroups(r) >= s.opts.ParameterGroupQuota {
		return errf("DBParameterGroupQuotaExceeded", "The request cannot be processed because it would exceed the maximum number of DB parameter groups (%d).", s.opts.ParameterGroupQuota)
	}
	return nil
}

// paramGroupRef resolves the name or ARN of a DB parameter group of the region.
func paramGroupRef(r *region, ref string) *paramGroup {
	name := ref
	if a, ok := parseARN(ref); ok {
		if a.Service != "rds" || a.Kind != "pg" || a.Region != r.name {
			return nil
		}
		name = a.ID
	}
	return groups(r).params[strings.ToLower(name)]
}

func copyParamGroup(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	source := p.required("SourceDBParameterGroupIdentifier")
	target := p.required("TargetDBParameterGroupIdentifier")
	desc := p.required("TargetDBParameterGroupDescription")
	tags, _ := p.tags("Tags")
	if err := p.Err(); err != nil {
		return nil, err
	}
	src := paramGroupRef(r, source)
	if src == nil {
		return nil, errParamGroupNotFound(source)
	}
	if src.isDefault {
		return nil, errInvalidValue("You can't copy a default DB parameter group: %s", src.name)
	}
	if !validIdentifier(target, 255) {
		return nil, errBadIdentifier("TargetDBParameterGroupIdentifier")
	}
	pg, e := s.newParamGroup(r, target, src.family, desc, false)
	if e != nil {
		return nil, e
	}
	pg.values, pg.methods, pg.tags = maps.Clone(src.values), maps.Clone(src.methods), tags
	s.emit(c.now, r.name, pg.kind(), pg.name, s.rdsARN(r.name, pg.kind(), pg.name), "created", c.action)
	return createParamGroupResult{DBParameterGroup: s.renderParamGroup(r, pg)}, nil
}

func deleteParamGroup(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	name := p.required("DBParameterGroupName")
	if err := p.Err(); err != nil {
		return nil, err
	}
	pg := groups(r).params[strings.ToLower(name)]
	if pg == nil {
		return nil, errParamGroupNotFound(name)
	}
	if pg.isDefault {
		return nil, errf("InvalidDBParameterGroupState", "Default DBParameterGroup cannot be deleted: %s", pg.name)
	}
	for _, i := range sortedInstances(r) { // a deleting instance is still a member
		if i.cfg.ParameterGroup == pg.name {
			return nil, errf("InvalidDBParameterGroupState", "One or more database instances are still members of this parameter group %s, so the group cannot be deleted", pg.name)
		}
	}
	delete(groups(r).params, pg.name)
	s.emit(c.now, r.name, pg.kind(), pg.name, s.rdsARN(r.name, pg.kind(), pg.name), "deleted", c.action)
	return nil, nil
}
