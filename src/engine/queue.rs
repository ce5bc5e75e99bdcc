//! The future event list.
//!
//! One total order, defined once: events pop by `(time, sequence number)`, and sequence numbers
//! are handed out in scheduling order, so events at the same instant pop first-in first-out
//! (as nexosim's `priority_queue.rs`). The key is packed into one `u128` so the heap compares a
//! single integer. Events are stored inline: scheduling never allocates once the heap has grown
//! to its working size.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::{SimDuration, SimTime};

/// An attempt to schedule an event before the current time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot schedule an event at {at}, before the current time {now}")]
pub struct SchedulingError {
    /// When the event was asked for.
    pub at: SimTime,
    /// The simulated time when it was asked.
    pub now: SimTime,
}

struct Entry<E> {
    /// `time << 64 | seq`: ordering by this one integer is ordering by (time, seq).
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap; reverse so the earliest key is on top.
        other.key.cmp(&self.key)
    }
}

/// A priority queue of events ordered by `(time, sequence)`.
///
/// Complexity: `schedule_*` and `pop` are O(log n); `now`, `len` and `peek_time` are O(1).
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the event popped last (zero before the first pop).
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` after `delay` from now. Never fails: a delay cannot point to the past.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        let at = self.now.saturating_add(delay);
        self.push(at, event);
    }

    /// Schedules `event` at the absolute time `at`, which must not be before now.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: E) -> Result<(), SchedulingError> {
        if at < self.now {
            return Err(SchedulingError { at, now: self.now });
        }
        self.push(at, event);
        Ok(())
    }

    #[inline]
    fn push(&mut self, at: SimTime, event: E) {
        let key = ((at.as_nanos() as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        self.heap.push(Entry { key, event });
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap
            .peek()
            .map(|e| SimTime::from_nanos((e.key >> 64) as u64))
    }

    /// Removes the next event and advances the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let entry = self.heap.pop()?;
        self.now = SimTime::from_nanos((entry.key >> 64) as u64);
        Some((self.now, entry.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_fifo_among_equal_times() {
        let mut q = EventQueue::new();
        q.schedule_at(SimTime::from_nanos(5), 'a').unwrap();
        q.schedule_at(SimTime::from_nanos(3), 'b').unwrap();
        q.schedule_at(SimTime::from_nanos(5), 'c').unwrap();
        q.schedule_at(SimTime::from_nanos(3), 'd').unwrap();
        let order: Vec<(u64, char)> =
            std::iter::from_fn(|| q.pop().map(|(t, e)| (t.as_nanos(), e))).collect();
        assert_eq!(order, vec![(3, 'b'), (3, 'd'), (5, 'a'), (5, 'c')]);
    }

    #[test]
    fn scheduling_in_the_past_is_an_error_not_a_panic() {
        let mut q = EventQueue::new();
        q.schedule_at(SimTime::from_nanos(10), ()).unwrap();
        q.pop();
        let err = q.schedule_at(SimTime::from_nanos(9), ()).unwrap_err();
        assert_eq!(err.at, SimTime::from_nanos(9));
        assert_eq!(err.now, SimTime::from_nanos(10));
        assert!(q.schedule_at(SimTime::from_nanos(10), ()).is_ok());
    }

    #[test]
    fn schedule_in_is_relative_to_the_last_pop() {
        let mut q = EventQueue::new();
        q.schedule_in(SimDuration::from_nanos(4), 1);
        q.pop();
        q.schedule_in(SimDuration::from_nanos(4), 2);
        assert_eq!(q.peek_time(), Some(SimTime::from_nanos(8)));
    }
}
