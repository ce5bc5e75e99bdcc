//! A FIFO wait queue whose requests may have deadlines in any order.
//!
//! With one timeout for every request, deadlines grow from a queue's front to its back, so one
//! timer set for the head expires every request on time: when it fires it times out the heads
//! that are due and re-arms for the new head. That costs O(1) events per queue instead of one
//! per request. Routes with different read timeouts sharing a pool, and retries that re-enter
//! a queue with an older deadline, break that order. So each request is told on entry whether it
//! is *in order* (its deadline is at least every deadline ahead of it): in-order requests rely on
//! the head timer (whenever the timer stops at a head that is not due, every in-order request
//! behind it is due no earlier); the world gives each out-of-order request a timer of its own.
//! A request that expires away from the head stays in the queue as a tombstone, skipped and
//! freed when it reaches the front; `live` counts the others, for capacity and statistics.

use std::collections::VecDeque;

use crate::time::SimTime;
use crate::world::ids::RequestId;

/// A FIFO of request ids with a count of live (not expired) entries.
#[derive(Debug, Default)]
pub struct WaitQueue {
    items: VecDeque<RequestId>,
    live: u32,
    /// The latest deadline of any request that entered since the queue was last empty.
    latest: SimTime,
    /// A head timer is scheduled.
    pub timer_armed: bool,
}

impl WaitQueue {
    /// Requests waiting, tombstones excluded.
    #[inline]
    pub fn live(&self) -> u32 {
        self.live
    }

    /// Appends `id` with `deadline`; returns true if it is in order (see the module doc).
    #[inline]
    pub fn push(&mut self, id: RequestId, deadline: SimTime) -> bool {
        if self.items.is_empty() {
            self.latest = SimTime::ZERO;
        }
        self.items.push_back(id);
        self.live += 1;
        let in_order = deadline >= self.latest;
        if in_order {
            self.latest = deadline;
        }
        in_order
    }

    /// Every entry from the front, tombstones included.
    pub fn ids(&self) -> impl Iterator<Item = RequestId> + '_ {
        self.items.iter().copied()
    }

    /// The front entry, tombstone or not.
    #[inline]
    pub fn front(&self) -> Option<RequestId> {
        self.items.front().copied()
    }

    /// Removes the front entry; `live` says whether it was live (not a tombstone).
    #[inline]
    pub fn pop_front(&mut self, live: bool) -> Option<RequestId> {
        let id = self.items.pop_front();
        if id.is_some() && live {
            self.live -= 1;
        }
        id
    }

    /// A live entry somewhere in the queue expired and is now a tombstone.
    #[inline]
    pub fn expired_inside(&mut self) {
        self.live -= 1;
    }

    /// Empties the queue, returning every entry (tombstones included) in order.
    pub fn drain(&mut self) -> Vec<RequestId> {
        self.live = 0;
        self.items.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::from_nanos(s)
    }

    fn r(k: u32) -> RequestId {
        RequestId::from_raw(k)
    }

    #[test]
    fn order_is_judged_against_every_deadline_ahead() {
        let mut q = WaitQueue::default();
        assert!(q.push(r(1), t(10)));
        assert!(q.push(r(2), t(10)));
        assert!(!q.push(r(3), t(5)), "earlier than one ahead of it");
        assert!(q.push(r(4), t(12)));
        assert!(
            !q.push(r(5), t(11)),
            "earlier than request 4, though later than the head"
        );
        assert_eq!(q.live(), 5);
        q.expired_inside();
        assert_eq!(q.live(), 4);
        assert_eq!(q.pop_front(true), Some(r(1)));
        assert_eq!(q.front(), Some(r(2)));
        assert_eq!(q.drain(), vec![r(2), r(3), r(4), r(5)]);
        assert_eq!(q.live(), 0);
        // Once empty, order starts afresh.
        assert!(q.push(r(6), t(1)));
    }
}
