//! Per-partition tracking of the contiguous completed prefix: the offset the runtime may commit.
//!
//! Records of one partition are dispatched in offset order but may complete in any order. The
//! committable position of a partition is the offset of its oldest unfinished record, or, when
//! nothing is unfinished, the highest dispatched offset + 1 (Kafka's "next offset to read").
//! It never passes a record whose handling has not finished.

use std::collections::{HashMap, VecDeque};

/// Identifies one dispatched record: completions carry it back to the tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    /// The assignment epoch of the partition when the record was dispatched: a completion from
    /// before a revocation must not move the position of a later assignment.
    pub(crate) epoch: u64,
}

#[derive(Debug)]
struct PartitionState {
    epoch: u64,
    /// Dispatched records in offset order, with their completion flag.
    window: VecDeque<(i64, bool)>,
    /// Highest dispatched offset + 1.
    next: i64,
    /// The position last handed out for committing.
    committed: Option<i64>,
    /// Paused because the window reached the bound.
    paused: bool,
}

impl PartitionState {
    fn position(&self) -> i64 {
        self.window.front().map_or(self.next, |&(offset, _)| offset)
    }
}

/// The committable positions of every partition the runtime currently owns.
#[derive(Debug)]
pub(crate) struct OffsetTracker {
    partitions: HashMap<(String, i32), PartitionState>,
    next_epoch: u64,
    /// Uncommitted records (from the oldest unfinished one to the newest dispatched) at which a
    /// partition is paused.
    max_uncommitted: usize,
}

impl Default for OffsetTracker {
    fn default() -> Self {
        Self::new(usize::MAX)
    }
}

impl OffsetTracker {
    /// A tracker that asks to pause a partition once `max_uncommitted` of its records are
    /// dispatched but not committable (see [`dispatch`](Self::dispatch)).
    pub(crate) fn new(max_uncommitted: usize) -> Self {
        Self {
            partitions: HashMap::new(),
            next_epoch: 0,
            max_uncommitted: max_uncommitted.max(1),
        }
    }

    /// Registers a record as in flight. Offsets of one partition must be dispatched in increasing
    /// order (as a consumer reads them); an offset at or below one already dispatched in the same
    /// epoch (a re-fetch after a seek) restarts the partition's window at that offset.
    ///
    /// The flag is `true` when the partition's uncommitted window just reached the bound: the
    /// caller pauses the partition (and resumes it when [`complete`](Self::complete) says so).
    pub(crate) fn dispatch(&mut self, topic: &str, partition: i32, offset: i64) -> (Ticket, bool) {
        let key = (topic.to_owned(), partition);
        let next_epoch = &mut self.next_epoch;
        let state = self.partitions.entry(key).or_insert_with(|| {
            *next_epoch += 1;
            PartitionState {
                epoch: *next_epoch,
                window: VecDeque::new(),
                next: offset,
                committed: None,
                paused: false,
            }
        });
        if offset < state.next {
            // Re-delivery from an earlier position (seek): start a new epoch for this partition.
            *next_epoch += 1;
            state.epoch = *next_epoch;
            state.window.clear();
        }
        state.window.push_back((offset, false));
        state.next = offset + 1;
        let pause = !state.paused && state.window.len() >= self.max_uncommitted;
        state.paused |= pause;
        let ticket = Ticket {
            topic: topic.to_owned(),
            partition,
            offset,
            epoch: state.epoch,
        };
        (ticket, pause)
    }

    /// Marks a record finished (handled, deduplicated or sent to the error topic). Completions
    /// of a revoked partition or of an earlier epoch are ignored. Returns `true` when the
    /// partition was paused and its window is below the bound again: the caller resumes it.
    pub(crate) fn complete(&mut self, ticket: &Ticket) -> bool {
        let Some(state) = self
            .partitions
            .get_mut(&(ticket.topic.clone(), ticket.partition))
        else {
            return false;
        };
        if state.epoch != ticket.epoch {
            return false;
        }
        if let Ok(index) = state
            .window
            .binary_search_by_key(&ticket.offset, |&(offset, _)| offset)
            && let Some(entry) = state.window.get_mut(index)
        {
            entry.1 = true;
        }
        while state.window.front().is_some_and(|&(_, done)| done) {
            state.window.pop_front();
        }
        let resume = state.paused && state.window.len() < self.max_uncommitted;
        if resume {
            state.paused = false;
        }
        resume
    }

    /// Uncommitted records per partition: dispatched from the oldest unfinished one on.
    pub(crate) fn uncommitted(&self) -> Vec<(String, i32, usize)> {
        self.partitions
            .iter()
            .map(|((topic, partition), state)| (topic.clone(), *partition, state.window.len()))
            .collect()
    }

    /// Positions (next offset to read) that moved since they were last taken, marked as taken.
    pub(crate) fn take_commits(&mut self) -> Vec<(String, i32, i64)> {
        let mut out = Vec::new();
        for ((topic, partition), state) in &mut self.partitions {
            let position = state.position();
            if state.committed != Some(position) {
                out.push((topic.clone(), *partition, position));
                state.committed = Some(position);
            }
        }
        out
    }

    /// Every partition's current position (for the final, synchronous commit).
    pub(crate) fn positions(&mut self) -> Vec<(String, i32, i64)> {
        self.partitions
            .iter_mut()
            .map(|((topic, partition), state)| {
                state.committed = Some(state.position());
                (topic.clone(), *partition, state.position())
            })
            .collect()
    }

    /// A commit of `position` failed: hand the partition's position out again next time.
    pub(crate) fn forget_commit(&mut self, topic: &str, partition: i32, position: i64) {
        if let Some(state) = self.partitions.get_mut(&(topic.to_owned(), partition))
            && state.committed == Some(position)
        {
            state.committed = None;
        }
    }

    /// Forgets the given partitions (revoked by a rebalance) and returns their positions that
    /// were not yet handed out for committing.
    pub(crate) fn revoke(&mut self, partitions: &[(String, i32)]) -> Vec<(String, i32, i64)> {
        let mut out = Vec::new();
        for key in partitions {
            if let Some(state) = self.partitions.remove(key) {
                let position = state.position();
                if state.committed != Some(position) {
                    out.push((key.0.clone(), key.1, position));
                }
            }
        }
        out
    }

    /// Number of dispatched records not finished yet.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.partitions
            .values()
            .map(|s| s.window.iter().filter(|&&(_, done)| !done).count())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn commits(tracker: &mut OffsetTracker) -> Vec<(String, i32, i64)> {
        let mut c = tracker.take_commits();
        c.sort();
        c
    }

    #[test]
    fn position_is_the_oldest_unfinished_record_when_completions_are_out_of_order() {
        let mut t = OffsetTracker::default();
        let tickets: Vec<_> = (10..15).map(|o| t.dispatch("a", 0, o).0).collect();
        assert_eq!(commits(&mut t), vec![("a".into(), 0, 10)]);
        t.complete(&tickets[2]);
        t.complete(&tickets[4]);
        assert_eq!(commits(&mut t), vec![], "10 is unfinished: nothing moves");
        t.complete(&tickets[0]);
        assert_eq!(commits(&mut t), vec![("a".into(), 0, 11)]);
        t.complete(&tickets[1]);
        assert_eq!(
            commits(&mut t),
            vec![("a".into(), 0, 13)],
            "11, 12 done; 13 is unfinished"
        );
        assert_eq!(t.in_flight(), 1);
        t.complete(&tickets[3]);
        assert_eq!(
            commits(&mut t),
            vec![("a".into(), 0, 15)],
            "everything done: next to read"
        );
        assert_eq!(
            commits(&mut t),
            vec![],
            "unchanged positions are not committed again"
        );
    }

    #[test]
    fn partitions_are_independent_and_gaps_in_offsets_are_fine() {
        let mut t = OffsetTracker::default();
        let a = t.dispatch("a", 0, 5).0;
        let b = t.dispatch("a", 1, 100).0;
        let a2 = t.dispatch("a", 0, 9).0; // offsets 6..8 absent (e.g. compacted)
        t.complete(&b);
        t.complete(&a2);
        assert_eq!(
            commits(&mut t),
            vec![("a".into(), 0, 5), ("a".into(), 1, 101)]
        );
        t.complete(&a);
        assert_eq!(commits(&mut t), vec![("a".into(), 0, 10)]);
    }

    #[test]
    fn revoked_partitions_return_their_position_and_ignore_late_completions() {
        let mut t = OffsetTracker::default();
        let x = t.dispatch("a", 0, 0).0;
        let y = t.dispatch("a", 0, 1).0;
        t.complete(&x);
        assert_eq!(t.revoke(&[("a".into(), 0)]), vec![("a".into(), 0, 1)]);
        // assigned again later, re-reading from 1
        let y2 = t.dispatch("a", 0, 1).0;
        t.complete(&y); // the old epoch's completion must not count
        assert_eq!(commits(&mut t), vec![("a".into(), 0, 1)]);
        t.complete(&y2);
        assert_eq!(commits(&mut t), vec![("a".into(), 0, 2)]);
    }

    #[test]
    fn a_partition_is_paused_at_the_bound_and_resumed_when_the_window_drains() {
        let mut t = OffsetTracker::new(3);
        let (first, pause) = t.dispatch("a", 0, 0);
        assert!(!pause);
        let (second, pause) = t.dispatch("a", 0, 1);
        assert!(!pause);
        let (_third, pause) = t.dispatch("a", 0, 2);
        assert!(pause, "three uncommitted records reach the bound");
        assert!(!t.dispatch("a", 1, 0).1, "other partitions are independent");
        assert!(
            !t.complete(&second),
            "0 still unfinished: the window is still 3"
        );
        assert_eq!(t.uncommitted().iter().find(|u| u.1 == 0).unwrap().2, 3);
        assert!(t.complete(&first), "0 and 1 done: window 1 < 3, resume");
        assert!(!t.dispatch("a", 0, 3).1);
    }

    #[test]
    fn a_seek_backwards_starts_a_new_epoch() {
        let mut t = OffsetTracker::default();
        let old = t.dispatch("a", 0, 7).0;
        let again = t.dispatch("a", 0, 3).0;
        t.complete(&old);
        assert_eq!(commits(&mut t), vec![("a".into(), 0, 3)]);
        t.complete(&again);
        assert_eq!(commits(&mut t), vec![("a".into(), 0, 4)]);
    }
}
