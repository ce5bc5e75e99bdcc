//! Requests in flight, in a slab: ids are reused, so memory follows the number of requests in
//! the system, not the number that ever arrived, and the event loop does not allocate once the
//! slab has grown to its working size. Each slot counts its reuses (a generation), so a timer
//! that outlived its request can tell.
//!
//! The slab holds at most [`RequestSlab::set_cap`] requests (the memory guard's cap, see
//! [`crate::world::memory_guard`]): it grows only on request, by `try_reserve`, never past the cap, and
//! [`RequestSlab::insert`] returns `None` when it cannot hold one more instead of aborting. The
//! free list is reserved as the slab grows, so freeing a request never allocates.

use crate::metrics::{Failure, LossCause};
use crate::time::SimTime;
use crate::world::ids::{ClassId, Id, InstanceId, RequestId, TargetId, MAX_IDS};

/// The event queue's halt code when the slab is full: the run stops at the next pop and the
/// memory guard reports it.
pub(in crate::world) const HALT_REQUESTS: u8 = 1;

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting in a queue.
    Queued,
    /// Being served on a slot.
    Serving,
    /// Sent to a target that will not serve it: a crashed host (the connection will time out)
    /// or a broken one (an error reply is on its way).
    Doomed,
    /// Its outcome is counted, but its server works on until the service end (the client timed
    /// out, `on_timeout = "keep_serving"`).
    Abandoned,
    /// Timed out away from its queue's head: a tombstone, freed when it reaches the front.
    Expired,
    /// Its server died while serving it; freed when the stale service end arrives.
    Killed,
    /// Its client waits before sending it again.
    Backoff,
}

/// A request while it is in the system.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// When it first arrived (latency counts from here, across retries).
    pub arrival: SimTime,
    /// When the client gives up on its current attempt ([`SimTime::NEVER`] without a timeout).
    pub client_deadline: SimTime,
    /// When the current try fails as timed out: the client's deadline, or earlier the route's
    /// read timeout after the try was sent.
    pub deadline: SimTime,
    /// When the current try was sent to its target.
    pub sent: SimTime,
    /// Its work, as a quantile of the service-time distribution (drawn at arrival).
    pub quantile: f64,
    /// The user who sent it.
    pub user: u64,
    /// Its class.
    pub class: ClassId,
    /// The instance serving or holding it (`None` while in a pool's shared queue, or before
    /// a target is picked).
    pub instance: Option<InstanceId>,
    /// Its target in its target group's balancer (`None` if not balanced).
    pub target: Option<TargetId>,
    /// Where it is.
    pub phase: Phase,
    /// Its service is cut at the deadline (`on_timeout = "cancel"`): it ends as timed out.
    pub cut_at_deadline: bool,
    /// Why it will fail, while [`Phase::Doomed`].
    pub doomed_by: Failure,
    /// The fault behind [`Request::doomed_by`] (`lost_by_cause`).
    pub doomed_cause: Option<LossCause>,
    /// Tries sent in the current attempt (a balancer retry is another try).
    pub tries: u16,
    /// Attempts its client has made (a client retry is another attempt).
    pub attempts: u16,
    /// The current try is a balancer's retry (it counts against the retry budget).
    pub is_retry: bool,
    /// The client's last wait before a retry \[ns\] (decorrelated jitter grows from it).
    pub last_backoff: u64,
    /// Its client's DNS answer (index into the DNS regions; 0 without regions).
    pub region: u16,
    /// Its prompt (context) tokens: from the trace's column, else drawn for a token-based class;
    /// 0 with `output_tokens` 0: not token-based.
    pub input_tokens: u32,
    /// Tokens it generates; 0: not token-based (served by its class's service time).
    pub output_tokens: u32,
}

/// Storage for requests, indexed by [`RequestId`].
pub struct RequestSlab {
    items: Vec<Request>,
    generations: Vec<u32>,
    free: Vec<RequestId>,
    /// The most slots the slab may have.
    cap: u32,
    /// The allocator refused memory for more slots.
    refused: bool,
}

impl Default for RequestSlab {
    fn default() -> Self {
        RequestSlab {
            items: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            cap: MAX_IDS,
            refused: false,
        }
    }
}

/// Why [`RequestSlab::insert`] could not store a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlabFull {
    /// The cap was reached.
    Cap,
    /// The allocator refused memory.
    Memory,
}

impl RequestSlab {
    /// Bytes a slot takes: the request, its generation and its place in the free list.
    pub const BYTES_PER_SLOT: usize = std::mem::size_of::<Request>() + 4 + 4;

    /// The slab holds at most `cap` requests at once (at least 1).
    pub fn set_cap(&mut self, cap: u32) {
        self.cap = cap.clamp(1, MAX_IDS);
    }

    /// Stores `r` and returns its id; `None` if the slab is full (see [`RequestSlab::full`]).
    /// Always inlined: called for every arrival and retry with a request just built, which a
    /// call would copy through memory (measured: out of line, the viral spike ran 15 % slower).
    #[inline(always)]
    pub fn insert(&mut self, r: Request) -> Option<RequestId> {
        match self.free.pop() {
            Some(id) => {
                self.items[id.index()] = r;
                self.generations[id.index()] = self.generations[id.index()].wrapping_add(1);
                Some(id)
            }
            None => {
                if self.items.len() == self.items.capacity() && !self.grow() {
                    return None;
                }
                self.items.push(r);
                self.generations.push(0);
                Some(RequestId::new(self.items.len() - 1))
            }
        }
    }

    /// Room for more slots within the cap (doubling, never past it), with the free list
    /// reserved to match; false if there is none.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) -> bool {
        let len = self.items.len();
        let room = (self.cap as usize).saturating_sub(len);
        if room == 0 {
            return false;
        }
        let more = len.max(64).min(room);
        let ok = self.items.try_reserve_exact(more).is_ok()
            && self.generations.try_reserve_exact(more).is_ok()
            && self
                .free
                .try_reserve_exact((len + more).saturating_sub(self.free.len()))
                .is_ok();
        self.refused |= !ok;
        ok
    }

    /// Why the last failed [`RequestSlab::insert`] failed.
    pub fn full(&self) -> SlabFull {
        if self.refused {
            SlabFull::Memory
        } else {
            SlabFull::Cap
        }
    }

    /// Requests held now.
    pub fn held(&self) -> usize {
        self.items.len() - self.free.len()
    }

    /// Every request held now (for the rare report that counts them); `None` if the memory
    /// to tell held from free slots cannot be had (the slab's length in bytes).
    pub fn iter_held(&self) -> Option<impl Iterator<Item = &Request> + '_> {
        let mut free = Vec::new();
        free.try_reserve_exact(self.items.len()).ok()?;
        free.resize(self.items.len(), false);
        for &f in &self.free {
            free[f.index()] = true;
        }
        Some(
            self.items
                .iter()
                .zip(free)
                .filter(|(_, f)| !f)
                .map(|(r, _)| r),
        )
    }

    /// Releases `id` for reuse.
    #[inline]
    pub fn remove(&mut self, id: RequestId) {
        self.free.push(id);
    }

    /// How many times slot `id` has been reused: a timer carries it to recognise its request.
    #[inline]
    pub fn generation(&self, id: RequestId) -> u32 {
        self.generations[id.index()]
    }

    /// The request `id`.
    #[inline]
    pub fn get(&self, id: RequestId) -> &Request {
        &self.items[id.index()]
    }

    /// The request `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: RequestId) -> &mut Request {
        &mut self.items[id.index()]
    }

    /// Ids of the requests held by `instance` in `phase`, for the rare events that must find
    /// them all (a server dying). O(slab size): the slab is as large as the peak in flight.
    pub fn held_by(&self, instance: InstanceId, phase: Phase) -> Vec<RequestId> {
        let mut free = vec![false; self.items.len()];
        for &f in &self.free {
            free[f.index()] = true;
        }
        (0..self.items.len())
            .filter(|&k| {
                let r = &self.items[k];
                !free[k] && r.instance == Some(instance) && r.phase == phase
            })
            .map(RequestId::new)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(instance: u32, phase: Phase) -> Request {
        let instance = Some(InstanceId::from_raw(instance));
        Request {
            arrival: SimTime::ZERO,
            client_deadline: SimTime::NEVER,
            deadline: SimTime::NEVER,
            sent: SimTime::ZERO,
            quantile: 0.5,
            user: 0,
            class: ClassId::new(0),
            instance,
            target: Some(TargetId::new(0)),
            phase,
            cut_at_deadline: false,
            doomed_by: Failure::Interrupted,
            doomed_cause: None,
            tries: 0,
            attempts: 1,
            is_retry: false,
            last_backoff: 0,
            region: 0,
            input_tokens: 0,
            output_tokens: 0,
        }
    }

    #[test]
    fn a_request_stays_88_bytes() {
        // The topology's region and the loss cause live in what was padding; the token counts
        // of issue 7 (input, output: u32 each) add 8 bytes.
        assert_eq!(std::mem::size_of::<Request>(), 88);
    }

    #[test]
    fn ids_are_reused_after_removal_with_a_new_generation() {
        let r = request(0, Phase::Serving);
        let mut slab = RequestSlab::default();
        let a = slab.insert(r).unwrap();
        let b = slab.insert(r).unwrap();
        let g = slab.generation(a);
        slab.remove(a);
        assert_eq!(slab.insert(r), Some(a));
        assert_ne!(a, b);
        assert_eq!(slab.generation(a), g + 1);
    }

    #[test]
    fn held_by_finds_live_requests_of_an_instance_only() {
        let mut slab = RequestSlab::default();
        let a = slab.insert(request(3, Phase::Serving)).unwrap();
        let b = slab.insert(request(3, Phase::Serving)).unwrap();
        slab.insert(request(4, Phase::Serving));
        slab.insert(request(3, Phase::Queued));
        slab.remove(b);
        assert_eq!(slab.held_by(InstanceId::new(3), Phase::Serving), vec![a]);
        assert_eq!((slab.held(), slab.iter_held().unwrap().count()), (3, 3));
    }

    #[test]
    fn a_full_slab_refuses_instead_of_growing_and_reuses_freed_slots() {
        let mut slab = RequestSlab::default();
        slab.set_cap(100);
        let ids: Vec<RequestId> = (0..100)
            .map(|_| slab.insert(request(0, Phase::Queued)).unwrap())
            .collect();
        assert!(slab.items.capacity() <= 100, "{}", slab.items.capacity());
        assert_eq!(slab.insert(request(0, Phase::Queued)), None);
        assert_eq!(slab.full(), SlabFull::Cap);
        // Freeing never allocates (the free list was reserved) and makes room again.
        let free_capacity = slab.free.capacity();
        for &id in &ids {
            slab.remove(id);
        }
        assert_eq!(slab.free.capacity(), free_capacity);
        assert!(slab.insert(request(0, Phase::Queued)).is_some());
    }
}
