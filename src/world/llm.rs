//! Token-based requests on LLM instances: the world's side of [`crate::model::fleet::llm`].
//!
//! A token-based request that gets a slot on an instance type with an `llm` profile joins the
//! instance's continuous batch instead of drawing a service time. The batch says when its next
//! prefill or last token is due; one event per instance (`LlmNext`, stale unless its epoch is
//! the batch's) stands for it and is scheduled again whenever the batch changes. A finished
//! request ends through the same path as any service end; its slot then takes the next waiting
//! request, which joins the batch.

use super::requests::Phase;
use super::{Event, World};
use crate::engine::SimTime;
use crate::metrics::Failure;
use crate::model::fleet::OnTimeout;

impl World<'_> {
    /// Request `id` (already counted on a slot of `instance`) joins its batch.
    pub(super) fn start_llm(&mut self, now: SimTime, instance: u32, id: u32) {
        let scenario = self.scenario;
        let inst = &mut self.instances[instance as usize];
        let profile = scenario.instance_types[inst.itype as usize]
            .llm
            .as_ref()
            .expect("start_llm on an LLM type");
        let req = self.requests.get_mut(id);
        req.instance = instance;
        req.phase = Phase::Serving;
        let batch = inst.llm.get_or_insert_with(Box::default);
        batch.admit(now, profile, id, req.input_tokens, req.output_tokens);
        if req.deadline != SimTime::NEVER {
            let generation = self.requests.generation(id);
            let at = self.requests.get(id).deadline.max(now);
            self.queue.schedule_in(
                at - now,
                Event::LlmDeadline {
                    request: id,
                    generation,
                },
            );
        }
        self.schedule_llm(now, instance);
    }

    /// Schedules `instance`'s batch event for its next prefill end or last token.
    fn schedule_llm(&mut self, now: SimTime, instance: u32) {
        let scenario = self.scenario;
        let inst = &self.instances[instance as usize];
        let Some(batch) = inst.llm.as_deref() else {
            return;
        };
        let Some(profile) = scenario.instance_types[inst.itype as usize].llm.as_ref() else {
            return;
        };
        if let Some(at) = batch.next_event(profile) {
            let epoch = batch.epoch;
            self.queue
                .schedule_in(at.max(now) - now, Event::LlmNext { instance, epoch });
        }
    }

    /// The epoch of `instance`'s batch if it has work due at `now`.
    fn due_llm_epoch(&self, now: SimTime, instance: u32) -> Option<u32> {
        let inst = self.instances.get(instance as usize)?;
        let batch = inst.llm.as_deref()?;
        let profile = self.scenario.instance_types[inst.itype as usize]
            .llm
            .as_ref()?;
        batch
            .next_event(profile)
            .filter(|&at| at <= now)
            .map(|_| batch.epoch)
    }

    /// `instance`'s batch reaches its next prefill end or last token.
    pub(super) fn on_llm_next(&mut self, now: SimTime, instance: u32, epoch: u32) {
        let scenario = self.scenario;
        let inst = &mut self.instances[instance as usize];
        let Some(batch) = inst.llm.as_deref_mut().filter(|b| b.epoch == epoch) else {
            return;
        };
        let profile = scenario.instance_types[inst.itype as usize]
            .llm
            .as_ref()
            .expect("an LLM batch on an LLM type");
        let mut done = std::mem::take(&mut self.llm_done);
        batch.advance(now, profile, &mut done);
        // Scheduled first: a finished request's slot may admit another, which reschedules.
        self.schedule_llm(now, instance);
        for f in done.drain(..) {
            debug_assert!(
                matches!(
                    self.requests.get(f.id).phase,
                    Phase::Serving | Phase::Abandoned
                ),
                "request {} finished in phase {:?} at {now:?}",
                f.id,
                self.requests.get(f.id).phase
            );
            self.end_service(now, instance, f.id, Some(f.first_token));
        }
        self.llm_done = done;
    }

    /// The deadline of request `id` passes while it is in a batch: its client gives up. The
    /// server keeps generating for it (`keep_serving`), or drops it from the batch (`cancel`).
    pub(super) fn on_llm_deadline(&mut self, now: SimTime, id: u32, generation: u32) {
        if self.requests.generation(id) != generation {
            return;
        }
        // A request whose last token is due now as well completes (as a service end at its
        // deadline does): the batch's due work is done first.
        let instance = self.requests.get(id).instance;
        if let Some(due) = self.due_llm_epoch(now, instance) {
            self.on_llm_next(now, instance, due);
        }
        let req = *self.requests.get(id);
        // A freed entry keeps its generation until reused: the batch says if it is still in.
        let in_batch = req.phase == Phase::Serving
            && self.instances[req.instance as usize]
                .llm
                .as_deref()
                .is_some_and(|b| b.contains(id));
        if !in_batch {
            // Finished, killed, or already abandoned.
            return;
        }
        match self.on_timeout {
            OnTimeout::KeepServing => self.on_client_deadline(now, id),
            OnTimeout::Cancel => {
                let scenario = self.scenario;
                let instance = req.instance;
                let inst = &mut self.instances[instance as usize];
                let profile = scenario.instance_types[inst.itype as usize]
                    .llm
                    .as_ref()
                    .expect("an LLM batch on an LLM type");
                if let Some(batch) = inst.llm.as_deref_mut() {
                    batch.remove(now, profile, id);
                }
                self.release(&req, None);
                self.after_failure(now, id, Failure::TimedOut);
                self.requests.remove(id);
                let inst = &mut self.instances[instance as usize];
                inst.set_busy(now, inst.busy - 1);
                self.recorder.slot_freed();
                self.schedule_llm(now, instance);
                self.serve_next(now, instance);
            }
        }
    }

    /// `instance` died: its batch's requests (already counted as failed, now `Killed`) are
    /// freed, and its batch emptied.
    pub(super) fn clear_llm(&mut self, instance: u32) {
        let Some(batch) = self.instances[instance as usize].llm.as_deref_mut() else {
            return;
        };
        let mut ids = Vec::new();
        batch.clear(&mut ids);
        for id in ids {
            debug_assert_eq!(self.requests.get(id).phase, Phase::Killed);
            self.requests.remove(id);
        }
    }
}
