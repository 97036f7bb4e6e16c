package workflow

// Operations outside the migration's steps, as events and approvals name them.
const (
	PhaseRollback = "rollback"
	PhaseCleanup  = "cleanup"
)

// announceJournal tells observers what a resumed run, a rollback or a cleanup is about
// before it asks anything: a plan event built from the journal (its steps, with what each
// does) whose Report says where each step stands. A screen can then number and name the
// steps as it did for the migration. For a rollback or a cleanup, phase is the one step
// the run performs.
func (r *run) announceJournal(phase, summary string) {
	p := &Plan{MigrationID: r.st.ID, Kind: r.st.Kind, Region: r.st.Region, Source: r.st.Source,
		Mode: r.st.Mode, KmsKeyARN: r.st.KmsKeyARN, RegionKeys: r.st.RegionKeys}
	if phase != "" {
		p.Steps = []PlannedStep{{Name: phase, Description: summary, Mutating: true}}
	} else {
		view, steps := r.planView(), r.route.steps()
		for _, ss := range r.st.Steps {
			kind, subject := splitStep(ss.Name)
			ps := PlannedStep{Name: ss.Name}
			if s, ok := stepByName(steps, kind); ok {
				ps.Description, ps.Actions, ps.Mutating, ps.Downtime = s.text(view, r.names, subject), s.actions, s.mutating, s.downtime
				ps.ApprovedWith = s.approvedWith
			}
			p.Steps = append(p.Steps, ps)
		}
	}
	rep := ReportOf(r.st)
	r.e.notify(Event{Type: EventPlan, MigrationID: r.st.ID, Plan: p, Report: rep})
}
