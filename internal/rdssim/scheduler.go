package rdssim

import (
	"container/heap"
	"time"
)

// task is one scheduled state change. Tasks run in (at, seq) order when the simulator settles,
// which makes every outcome a function of virtual time only.
type task struct {
	at  time.Time
	seq uint64
	fn  func(at time.Time)
}

type taskHeap []*task

func (h taskHeap) Len() int { return len(h) }
func (h taskHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h taskHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *taskHeap) Push(x any)   { *h = append(*h, x.(*task)) }
func (h *taskHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

type scheduler struct {
	tasks taskHeap
	seq   uint64
}

// at schedules fn at virtual time t. Callers hold Sim.mu.
func (s *Sim) at(t time.Time, fn func(at time.Time)) {
	s.sched.seq++
	heap.Push(&s.sched.tasks, &task{at: t, seq: s.sched.seq, fn: fn})
}

// settle runs every task due at or before now. Tasks may schedule further tasks.
func (s *Sim) settle(now time.Time) {
	for s.sched.tasks.Len() > 0 && !s.sched.tasks[0].at.After(now) {
		t := heap.Pop(&s.sched.tasks).(*task)
		t.fn(t.at)
	}
}

// lifecycle is embedded in every resource with a timeline. Starting a new timeline (or
// removing the resource) bumps gen, which cancels the steps of the previous one.
type lifecycle struct {
	gen  int
	gone bool
}

func (l *lifecycle) life() *lifecycle { return l }

type hasLife interface{ life() *lifecycle }

// step is one point of a timeline: after the given offset from the start, run apply.
type step struct {
	after time.Duration
	apply func(at time.Time)
}

// timeline cancels the resource's pending steps and schedules new ones from start.
func (s *Sim) timeline(res hasLife, start time.Time, steps ...step) {
	l := res.life()
	l.gen++
	gen := l.gen
	for _, st := range steps {
		apply := st.apply
		s.at(start.Add(st.after), func(at time.Time) {
			if l.gone || l.gen != gen {
				return
			}
			apply(at)
		})
	}
}

// cancelTimeline drops the pending steps of a resource.
func cancelTimeline(res hasLife) { res.life().gen++ }
