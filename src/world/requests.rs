//! Requests in flight, in a slab: ids are reused, so memory follows the number of requests in
//! the system, not the number that ever arrived, and the event loop does not allocate once the
//! slab has grown to its working size. Each slot counts its reuses (a generation), so a timer
//! that outlived its request can tell.

use crate::engine::SimTime;
use crate::metrics::{Failure, LossCause};

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
    pub class: u32,
    /// The instance serving or holding it (`u32::MAX` while in a pool's shared queue).
    pub instance: u32,
    /// Its target index in its target group's balancer (`u32::MAX` if not balanced).
    pub target: u32,
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
    /// The client's last wait before a retry [ns] (decorrelated jitter grows from it).
    pub last_backoff: u64,
    /// Its client's DNS answer (index into the DNS regions; 0 without regions).
    pub region: u16,
    /// Its prompt (context) tokens: from the trace's column, else drawn for a token-based class;
    /// 0 with `output_tokens` 0: not token-based.
    pub input_tokens: u32,
    /// Tokens it generates; 0: not token-based (served by its class's service time).
    pub output_tokens: u32,
}

/// Storage for requests, indexed by `u32` ids.
#[derive(Default)]
pub struct RequestSlab {
    items: Vec<Request>,
    generations: Vec<u32>,
    free: Vec<u32>,
}

impl RequestSlab {
    /// Stores `r` and returns its id.
    #[inline]
    pub fn insert(&mut self, r: Request) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.items[id as usize] = r;
                self.generations[id as usize] = self.generations[id as usize].wrapping_add(1);
                id
            }
            None => {
                self.items.push(r);
                self.generations.push(0);
                (self.items.len() - 1) as u32
            }
        }
    }

    /// Releases `id` for reuse.
    #[inline]
    pub fn remove(&mut self, id: u32) {
        self.free.push(id);
    }

    /// How many times slot `id` has been reused: a timer carries it to recognise its request.
    #[inline]
    pub fn generation(&self, id: u32) -> u32 {
        self.generations[id as usize]
    }

    /// The request `id`.
    #[inline]
    pub fn get(&self, id: u32) -> &Request {
        &self.items[id as usize]
    }

    /// The request `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: u32) -> &mut Request {
        &mut self.items[id as usize]
    }

    /// Ids of the requests held by `instance` in `phase`, for the rare events that must find
    /// them all (a server dying). O(slab size): the slab is as large as the peak in flight.
    pub fn held_by(&self, instance: u32, phase: Phase) -> Vec<u32> {
        let mut free = vec![false; self.items.len()];
        for &f in &self.free {
            free[f as usize] = true;
        }
        (0..self.items.len() as u32)
            .filter(|&id| {
                let r = &self.items[id as usize];
                !free[id as usize] && r.instance == instance && r.phase == phase
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(instance: u32, phase: Phase) -> Request {
        Request {
            arrival: SimTime::ZERO,
            client_deadline: SimTime::NEVER,
            deadline: SimTime::NEVER,
            sent: SimTime::ZERO,
            quantile: 0.5,
            user: 0,
            class: 0,
            instance,
            target: 0,
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
        let a = slab.insert(r);
        let b = slab.insert(r);
        let g = slab.generation(a);
        slab.remove(a);
        assert_eq!(slab.insert(r), a);
        assert_ne!(a, b);
        assert_eq!(slab.generation(a), g + 1);
    }

    #[test]
    fn held_by_finds_live_requests_of_an_instance_only() {
        let mut slab = RequestSlab::default();
        let a = slab.insert(request(3, Phase::Serving));
        let b = slab.insert(request(3, Phase::Serving));
        slab.insert(request(4, Phase::Serving));
        slab.insert(request(3, Phase::Queued));
        slab.remove(b);
        assert_eq!(slab.held_by(3, Phase::Serving), vec![a]);
    }
}
