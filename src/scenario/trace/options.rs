//! The replay options a request trace and a count trace share: `window`, `speed_up`,
//! `rate_scale`, `loop`.

use crate::model::traffic::trace::MAX_RATE_SCALE;
use crate::model::traffic::TraceOptions;
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::time::SimDuration;

/// `window`, `speed_up`, `rate_scale`, `loop`, located at the window (or the table).
pub fn read_options(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<Located<TraceOptions>> {
    let mut ok = true;
    let mut options = TraceOptions::default();
    let mut at = None;
    if let Some(n) = f.get("window") {
        at = Some(n.at());
        match read_window(r, n) {
            Some(w) => options.window = Some(w),
            None => ok = false,
        }
    }
    if let Some(n) = f.get("speed_up") {
        match r.positive(&n, true) {
            Some(s) => options.speed_up = s.value,
            None => ok = false,
        }
    }
    if let Some(n) = f.get("rate_scale") {
        match r.positive(&n, true) {
            Some(s) if s.value <= MAX_RATE_SCALE => options.rate_scale = s.value,
            Some(s) => {
                r.error(
                    &s,
                    format!("rate_scale is at most {MAX_RATE_SCALE}, found {}", s.value),
                    Some(
                        "a larger scale superposes too many copies; speed the trace up instead"
                            .into(),
                    ),
                );
                ok = false;
            }
            None => ok = false,
        }
    }
    if let Some(n) = f.get("loop") {
        match r.boolean(&n) {
            Some(b) => options.looped = b.value,
            None => ok = false,
        }
    }
    let at = at.unwrap_or(Located {
        value: (),
        path: String::new(),
        span: (0, 0),
    });
    ok.then_some(Located {
        value: options,
        path: at.path,
        span: at.span,
    })
}

/// `window = { from = "10m", to = "40m" }` in trace time.
fn read_window(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<(SimDuration, SimDuration)> {
    let mut w = r.table(node, "a window such as { from = \"10m\", to = \"40m\" }")?;
    let from = w.get("from").map(|n| r.duration(&n));
    let to = w
        .required(r, "to", "end the window, such as to = \"40m\"")
        .and_then(|n| r.duration(&n));
    w.finish(r);
    let from = match from {
        Some(f) => f?.value,
        None => SimDuration::ZERO,
    };
    let to = to?;
    if to.value <= from {
        r.error(
            &to,
            "the window ends before it starts",
            Some("make `to` later than `from`".into()),
        );
        return None;
    }
    Some((from, to.value))
}
