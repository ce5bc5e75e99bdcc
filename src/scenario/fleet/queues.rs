//! `[[queue]]` tables: named queues that one pool each pulls from (a shared-queue pool), read,
//! and checked as pools name them.

use super::pool::RawPool;
use crate::scenario::reader::keys::{Key, Name, Whole};
use crate::scenario::reader::{
    check_unique, find, unknown_reference, Located, Names, Node, Reader,
};

/// A `[[queue]]` table: a named queue one pool pulls from.
pub struct RawQueue {
    pub name: Option<Located<String>>,
    pub capacity: Option<Located<u64>>,
}

const NAME: Key<Name> = Key::required("name", Name, "name the queue, such as name = \"batch\"");
const CAPACITY: Key<Whole> = Key::optional("capacity", Whole(0, u32::MAX as i64));

/// Reads a `[[queue]]` table.
pub fn read_queue(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawQueue> {
    let mut f = r.table(node, "a queue table")?;
    let q = RawQueue {
        name: f.read(r, &NAME),
        capacity: f.read(r, &CAPACITY),
    };
    f.finish(r);
    Some(q)
}

/// The `[[queue]]` tables and which pool pulls from each.
pub struct Queues<'a> {
    raw: &'a [RawQueue],
    pools: &'a [RawPool],
    names: Names<'a>,
    /// The pool pulling from each queue, by queue index.
    puller: Vec<Option<usize>>,
}

impl<'a> Queues<'a> {
    /// The `queues`, none pulled from yet by the `pools`.
    pub fn new(queues: &'a [RawQueue], pools: &'a [RawPool]) -> Self {
        Queues {
            raw: queues,
            pools,
            names: queues
                .iter()
                .map(|q| q.name.as_ref().map_or("", |n| n.value.as_str()))
                .collect(),
            puller: vec![None; queues.len()],
        }
    }

    /// Records that pool `pool` (`p`) pulls from the queue `q`, and returns that queue's
    /// capacity; `None` if the queue is unknown, already pulled from, or `p` has keys that
    /// do not go with a queue (each reported).
    pub fn pulled_by(
        &mut self,
        r: &mut Reader<'_>,
        p: &RawPool,
        q: &Located<String>,
        pool: usize,
    ) -> Option<Option<u32>> {
        let mut ok = true;
        if let Some(d) = &p.dispatch {
            r.error(
                d,
                format!(
                    "a pool that pulls from a queue has that queue in front of it, so dispatch does not apply (it works as shared_queue on queue \"{}\")",
                    q.value
                ),
                Some("remove dispatch".into()),
            );
            ok = false;
        }
        if let Some(c) = &p.queue_capacity {
            r.error(
                c,
                format!(
                    "the capacity of queue \"{}\" is set on its [[queue]] table",
                    q.value
                ),
                Some(format!(
                    "remove queue_capacity and set capacity = {} in the [[queue]] named \"{}\"",
                    c.value, q.value
                )),
            );
            ok = false;
        }
        let Some(index) = find(&self.names, &q.value) else {
            unknown_reference(r, q, "queue", &self.names);
            return None;
        };
        if let Some(other) = self.puller[index] {
            let other = self.pools[other]
                .name
                .as_ref()
                .map_or("", |n| n.value.as_str());
            r.error(
                q,
                format!("pool \"{other}\" already pulls from queue \"{}\"", q.value),
                Some(
                    "one pool pulls from each queue: give this pool a [[queue]] of its own".into(),
                ),
            );
            return None;
        }
        self.puller[index] = Some(pool);
        ok.then(|| self.raw[index].capacity.as_ref().map(|c| c.value as u32))
    }

    /// Checks the names and that every queue has a pool; false if not (reported).
    pub fn finish(self, r: &mut Reader<'_>) -> bool {
        let named: Vec<&Located<String>> =
            self.raw.iter().filter_map(|q| q.name.as_ref()).collect();
        let mut ok = check_unique(r, &named, "queue", "give each queue its own name");
        for (q, puller) in self.raw.iter().zip(&self.puller) {
            if let (Some(name), None) = (&q.name, puller) {
                r.error(
                    name,
                    format!("no pool pulls from queue \"{}\"", name.value),
                    Some(format!(
                        "add queue = \"{}\" to the [[pool]] that works on it, or remove the queue",
                        name.value
                    )),
                );
                ok = false;
            }
        }
        ok
    }
}
