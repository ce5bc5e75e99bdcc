//! Where a class goes: the pool pulling from its queue, the route whose path prefix matches its
//! path, the route of the pool it names, or the only pool of a file without routes.

use super::read::RawClass;
use crate::model::balancer::routing::longest_prefix;
use crate::scenario::balancer::routing::Routing;
use crate::scenario::diagnostics::list;
use crate::scenario::fleet::refs::PoolRef;
use crate::scenario::reader::{find, unknown_reference, Located, Names, Reader};

/// What a class may be sent to.
pub struct Destinations<'a, 'b, 'c> {
    /// Every pool as read.
    pub refs: &'a [PoolRef],
    /// Their names.
    pub pool_names: &'a Names<'a>,
    /// The names of the `[[queue]]` tables (a nameless one's is empty).
    pub queue_names: &'a Names<'a>,
    /// One pool and no `[[route]]`: a class that names nothing goes to that pool.
    pub only_pool: bool,
    /// The routes and groups, if they are valid.
    pub routing: Option<&'b mut Routing<'c>>,
}

/// The route of class `c`; `None` if it names nowhere it can go (reported), or routing is
/// broken.
pub fn route_of(
    r: &mut Reader<'_>,
    c: &RawClass,
    to: &mut Destinations<'_, '_, '_>,
) -> Option<usize> {
    if let Some(q) = &c.queue {
        return queue_route(r, c, q, to);
    }
    match (&c.pool, &c.path, to.routing.as_deref_mut()) {
        (Some(_), Some(path), _) => {
            r.error(
                path,
                "a class is sent by its path or straight to a pool, not both",
                Some("keep path (routed by [[route]]), or pool".into()),
            );
            None
        }
        (Some(p), None, routing) => match find(to.pool_names, &p.value) {
            // Checked even when routing is broken, so this mistake is reported too.
            Some(pool) => routing.and_then(|routing| routing.pool_route(r, pool, to.refs)),
            None => {
                unknown_reference(r, p, "pool", to.pool_names);
                None
            }
        },
        (None, Some(path), _) if !path.value.starts_with('/') => {
            r.error(
                path,
                format!("the path \"{}\" does not start with /", path.value),
                Some(
                    "write the request path, such as path = \"/predict\"; it is matched \
                     against the [[route]] path prefixes"
                        .into(),
                ),
            );
            None
        }
        (None, Some(path), Some(routing)) => path_route(r, path, routing),
        (None, None, Some(routing)) if to.only_pool => routing.pool_route(r, 0, to.refs),
        (None, None, _) if !to.only_pool => {
            let queues = if to.queue_names.is_empty() {
                String::new()
            } else {
                format!(", or queue = one of: {}", list(to.queue_names))
            };
            r.error(
                &c.at,
                "this class does not say where it goes",
                Some(format!(
                    "add path = \"/...\" (matched against the [[route]] paths) or pool = \"...\", one of: {}{queues}",
                    list(to.pool_names)
                )),
            );
            None
        }
        _ => None,
    }
}

/// The route whose path prefix is the longest one of `path`.
fn path_route(r: &mut Reader<'_>, path: &Located<String>, routing: &Routing<'_>) -> Option<usize> {
    let found = longest_prefix(
        routing.prefixes.iter().map(|(p, _)| p.as_str()),
        &path.value,
    )
    .map(|i| routing.prefixes[i].1);
    if found.is_none() {
        let known = if routing.prefixes.is_empty() {
            "add a [[route]] with path = \"/...\" and target_group = \"...\"".to_string()
        } else {
            let paths: Vec<&str> = routing.prefixes.iter().map(|(p, _)| p.as_str()).collect();
            format!("routes here: {}", paths.join(", "))
        };
        r.error(
            path,
            format!("no route's path is a prefix of \"{}\"", path.value),
            Some(known),
        );
    }
    found
}

/// The route of class `c`, which names the queue `q`: that of the pool pulling from the queue.
/// `None` if the class also names a pool or path, or the queue is unknown (reported), or no
/// pool pulls from it (reported at the queue), or routing is broken.
fn queue_route(
    r: &mut Reader<'_>,
    c: &RawClass,
    q: &Located<String>,
    to: &mut Destinations<'_, '_, '_>,
) -> Option<usize> {
    if c.pool.is_some() || c.path.is_some() {
        let other = if c.pool.is_some() { "pool" } else { "path" };
        r.error(
            q,
            format!(
                "a class goes to a queue, a pool or a path: this one names a queue and a {other}"
            ),
            Some(format!("keep queue, or {other}")),
        );
        return None;
    }
    if find(to.queue_names, &q.value).is_none() {
        unknown_reference(r, q, "queue", to.queue_names);
        return None;
    }
    let pool = to
        .refs
        .iter()
        .position(|p| p.queue.as_deref() == Some(q.value.as_str()))?;
    to.routing.as_deref_mut()?.pool_route(r, pool, to.refs)
}
