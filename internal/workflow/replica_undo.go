package workflow

import (
	"context"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// undoReplicas returns every old replica to its name and endpoint and deletes every
// replacement, children before their parents.
func undoReplicas(ctx context.Context, r *run) error {
	for i := len(r.st.Replicas) - 1; i >= 0; i-- {
		if err := r.undoReplica(ctx, &r.st.Replicas[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) undoReplica(ctx context.Context, rs *ReplicaState) error {
	r.subject = rs.Subject()
	defer func() { r.subject = "" }()
	rc, err := r.replica(ctx)
	if err != nil {
		return err
	}
	repl, err := r.newReplica(ctx, rc)
	if model.IsNotFound(err) {
		repl, err = nil, nil
	}
	if err != nil {
		return err
	}
	if repl != nil {
		if repl, err = r.settleIn(ctx, rc.api, repl); err != nil {
			return err
		}
	}
	old, err := r.settleIn(ctx, rc.api, rc.old)
	if err != nil {
		return err
	}
	if repl != nil && repl.ID == rs.ID {
		r.log("renaming %s back to %s", repl.ID, rc.names.Target)
		if err := r.renameAndWaitIn(ctx, rc.api, repl, rc.names.Target, ""); err != nil {
			return err
		}
	}
	if old.ID != rs.ID {
		r.log("renaming replica %s back to %s", old.ID, rs.ID)
		if err := r.renameAndWaitIn(ctx, rc.api, old, rs.ID, rs.Endpoint); err != nil {
			return err
		}
	}
	if repl != nil {
		return r.deleteOwnedInstanceIn(ctx, rc.api, repl.ResourceID, "")
	}
	return nil
}

// deleteRetiredReplicas deletes the old replicas, at their retired names, children first.
// AWS takes no final snapshot of a read replica: its data is the retired source's, whose
// final snapshot cleanup takes next.
func deleteRetiredReplicas(ctx context.Context, r *run) error {
	for i := len(r.st.Replicas) - 1; i >= 0; i-- {
		rs := &r.st.Replicas[i]
		api, err := r.regionAPI(rs.Region)
		if err != nil {
			return err
		}
		old, err := api.DescribeInstanceByResourceID(ctx, rs.ResourceID)
		if model.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		retired := NamesFor(r.st.ID, rs.ID).Retired
		if old.ID != retired {
			return errorf(old.ID, "rdsencrypt status "+r.st.ID, nil,
				"refusing to delete old replica %s: it is named %s, not its retired name %s", rs.Subject(), old.ID, retired)
		}
		if err := r.deleteRetired(ctx, api, old, ""); err != nil {
			return err
		}
	}
	return nil
}
