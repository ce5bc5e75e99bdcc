//! The future event list.
//!
//! One total order, defined once: events pop by `(time, sequence number)`, and sequence numbers
//! are handed out in scheduling order, so events at the same instant pop first-in first-out
//! (as nexosim's `priority_queue.rs`). The key is packed into one `u128` so the heap compares a
//! single integer. Events are stored inline: scheduling never allocates once the heap has grown
//! to its working size.
//!
//! The source slot: an open model always has exactly one pending arrival, re-scheduled each time
//! it fires, so half of all events are arrivals. Kept in a slot beside the heap, with a key from
//! the same sequence counter, it costs one comparison per pop instead of a heap push and pop,
//! and the order of events is exactly what it would be in the heap (a test proves it).
//!
//! A cap (the memory guard's, `crate::world::memory_guard`): the heap never holds more than
//! [`EventQueue::set_cap`] events, and it grows by `try_reserve`, so that neither the cap nor
//! an allocator that refuses memory aborts the process. An event it cannot hold is dropped and
//! the queue *halts*: [`EventQueue::pop`] returns `None` from then on, and
//! [`EventQueue::halted`] says why. The check costs nothing per event: it is made only when the
//! heap is full to its capacity, where `BinaryHeap::push` would reallocate anyway.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::{SimDuration, SimTime};

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

/// Why a queue stopped handing out events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Its cap of pending events was reached.
    EventCap,
    /// The allocator refused memory for more events.
    EventMemory,
    /// Its owner halted it ([`EventQueue::halt`]), with this code of its own.
    Owner(u8),
}

/// A priority queue of events ordered by `(time, sequence)`.
///
/// Complexity: `schedule_*` and `pop` are O(log n); `schedule_source_in`, `now`, `len` and
/// `peek_time` are O(1).
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// The pending source event, if any (see the module docs).
    source: Option<Entry<E>>,
    next_seq: u64,
    now: SimTime,
    /// The most events the heap may hold.
    cap: usize,
    /// Set when an event could not be held, or by the owner: `pop` then returns `None`.
    halted: Option<Halt>,
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
            source: None,
            next_seq: 0,
            now: SimTime::ZERO,
            cap: usize::MAX,
            halted: None,
        }
    }

    /// Bytes one pending event takes in the heap (its capacity, not counting growth).
    pub const BYTES_PER_EVENT: usize = std::mem::size_of::<Entry<E>>();

    /// The heap holds at most `cap` events: scheduling one more halts the queue.
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(1);
    }

    /// Stops the queue on its owner's behalf (`code` is the owner's): `pop` returns `None`.
    /// A halt already recorded is kept.
    pub fn halt(&mut self, code: u8) {
        self.halted.get_or_insert(Halt::Owner(code));
    }

    /// Why the queue halted, if it has.
    pub fn halted(&self) -> Option<Halt> {
        self.halted
    }

    /// The time of the event popped last (zero before the first pop).
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of pending events, the source event included.
    pub fn len(&self) -> usize {
        self.heap.len() + usize::from(self.source.is_some())
    }

    /// True when no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// Schedules the source event `event` after `delay` from now, in the source slot. At most
    /// one source event is pending at a time: call this again only after it has popped. It
    /// pops in the same order as if it had been scheduled with [`Self::schedule_in`].
    #[inline]
    pub fn schedule_source_in(&mut self, delay: SimDuration, event: E) {
        debug_assert!(self.source.is_none(), "one source event at a time");
        let key = self.next_key(self.now.saturating_add(delay));
        self.source = Some(Entry { key, event });
    }

    #[inline]
    fn next_key(&mut self, at: SimTime) -> u128 {
        let key = ((at.as_nanos() as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        key
    }

    #[inline]
    fn push(&mut self, at: SimTime, event: E) {
        let key = self.next_key(at);
        if self.heap.len() == self.heap.capacity() && !self.grow() {
            // Dropped: the queue has halted and the run ends at the next pop.
            return;
        }
        self.heap.push(Entry { key, event });
    }

    /// Makes room for more events within the cap (doubling, as `BinaryHeap` would, but never
    /// past the cap); false, and the queue halted, if there is none.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) -> bool {
        let len = self.heap.len();
        let room = self.cap.saturating_sub(len);
        if room == 0 {
            self.halted.get_or_insert(Halt::EventCap);
            return false;
        }
        if self.heap.try_reserve_exact(len.max(16).min(room)).is_err() {
            self.halted.get_or_insert(Halt::EventMemory);
            return false;
        }
        true
    }

    /// Every pending event, in no particular order (for the rare report that counts them).
    pub fn pending(&self) -> impl Iterator<Item = &E> + '_ {
        self.heap
            .iter()
            .chain(self.source.as_ref())
            .map(|entry| &entry.event)
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        let heap = self.heap.peek().map(|e| e.key);
        let source = self.source.as_ref().map(|e| e.key);
        let key = match (heap, source) {
            (Some(h), Some(s)) => h.min(s),
            (h, s) => h.or(s)?,
        };
        Some(SimTime::from_nanos((key >> 64) as u64))
    }

    /// Removes the next event and advances the clock to its time; `None` when no event is
    /// pending or the queue has halted.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.halted.is_some() {
            return None;
        }
        let source_first = match (&self.source, self.heap.peek()) {
            (Some(s), Some(h)) => s.key < h.key,
            (source, _) => source.is_some(),
        };
        let entry = if source_first {
            self.source.take()?
        } else {
            self.heap.pop()?
        };
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

    #[test]
    fn the_cap_halts_the_queue_instead_of_growing() {
        let mut q = EventQueue::new();
        q.set_cap(40);
        for i in 0..40u64 {
            q.schedule_in(SimDuration::from_nanos(i), i);
        }
        assert_eq!(q.halted(), None);
        assert!(q.heap.capacity() <= 40, "{}", q.heap.capacity());
        // The 41st is dropped, and nothing pops any more.
        q.schedule_in(SimDuration::from_nanos(1), 99);
        assert_eq!(q.halted(), Some(Halt::EventCap));
        assert_eq!(q.len(), 40);
        assert_eq!(q.pop(), None);
        let mut owner = EventQueue::<u8>::new();
        owner.schedule_in(SimDuration::ZERO, 1);
        owner.halt(3);
        owner.halt(4);
        assert_eq!(owner.halted(), Some(Halt::Owner(3)));
        assert_eq!(owner.pop(), None);
    }

    /// The source slot changes nothing about the order: a recurring source handled through the
    /// slot pops exactly as the same source scheduled in the heap, ties included.
    #[test]
    fn the_source_slot_pops_in_heap_order() {
        #[derive(Debug, Clone, Copy, PartialEq)]
        enum Ev {
            Source(u32),
            Other(u32),
        }
        let run = |use_slot: bool| {
            let mut q = EventQueue::new();
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            let mut draw = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct delays: many events share an instant.
                SimDuration::from_nanos(x % 4)
            };
            let mut order = Vec::new();
            q.schedule_source_in(SimDuration::ZERO, Ev::Source(0));
            if !use_slot {
                q = EventQueue::new();
                q.schedule_in(SimDuration::ZERO, Ev::Source(0));
            }
            let mut n = 0;
            while let Some((t, e)) = q.pop() {
                order.push((t, e));
                n += 1;
                if n > 10_000 {
                    break;
                }
                match e {
                    Ev::Source(i) => {
                        let d = draw();
                        if use_slot {
                            q.schedule_source_in(d, Ev::Source(i + 1));
                        } else {
                            q.schedule_in(d, Ev::Source(i + 1));
                        }
                        q.schedule_in(draw(), Ev::Other(i));
                        q.schedule_in(draw(), Ev::Other(i + 100_000));
                    }
                    Ev::Other(_) => {}
                }
            }
            assert!(!q.is_empty());
            order
        };
        let (slot, heap) = (run(true), run(false));
        assert_eq!(slot.len(), 10_001);
        assert!(
            slot.windows(2).any(|w| w[0].0 == w[1].0),
            "the test needs ties"
        );
        assert_eq!(slot, heap);
    }
}
