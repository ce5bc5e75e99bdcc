//! Reading vLLM's `benchmark_serving` result JSON as a measured run.
//!
//! The result is what `benchmarks/benchmark_serving.py --save-result` writes (vLLM before 0.9;
//! `vllm bench serve --save-result --save-detailed` since, `vllm/benchmarks/serve.py`,
//! `main_async`): one JSON object with, per request in the order they were sent,
//! `input_lens`, `output_lens`, `ttfts` \[s\], `itls` (the gaps between streamed chunks \[s\])
//! and `errors` (empty for a success), plus `request_rate` (a number, or `"inf"`),
//! `burstiness`, `max_concurrency` and, with a ramp-up, `ramp_up_strategy`, `ramp_up_start_rps`
//! and `ramp_up_end_rps`. Without `--save-detailed` the newer tool drops the per-request arrays:
//! such a file is refused ([`Problem::NotDetailed`]).
//!
//! What it lacks, and how it is handled:
//! - **Arrival times are not saved.** The tool draws the gaps between requests from a gamma
//!   distribution of mean 1/rate (`get_request`: `np.random.gamma(shape=burstiness, scale=1 /
//!   (rate × burstiness))`; since vLLM 0.9 the gaps are then rescaled so that the last request
//!   goes at N/rate). The draws are not in the file and numpy's generator is not reproduced
//!   here, so a request's arrival is the *expected* time of its send: request i (from 0) at
//!   i/rate after the first (for the rescaled gaps, the expected fraction of the total after
//!   i + 1 of N equal gamma draws is exactly (i + 1)/N, so this is exact in expectation for both
//!   versions), all at once for a rate of `inf`, and with a ramp-up the sum of the expected gaps
//!   1/rate_k of the requests before (`_get_current_request_rate`: linear or exponential from
//!   the start to the end rate over the requests). `--request-rate` overrides the file's rate.
//!   The replayed queue is therefore smoother than the measured one: its TTFT percentiles are
//!   a bias to keep in mind, a JSON-lines run with the engine's own timestamps has none.
//! - **Times are the client's.** TTFT is from the request's send to its first chunk, network
//!   and detokenization included; the end-to-end latency is `ttft + Σ itls` (the tool's
//!   `latency` is the last chunk's time less the start, and each ITL the gap between chunks:
//!   `backend_request_func.py`, `async_request_openai_completions`), and TPOT = Σ itls /
//!   (output − 1), the tool's own definition (`calculate_metrics`).
//! - **A client concurrency cap** (`max_concurrency`) delays sends until a slot frees: when a
//!   request reached the server is then unknown, and such a result is refused.
//! - **Failed requests** (a non-empty `errors[i]`) are left out of the replay and the statistics
//!   and counted ([`super::MeasuredRun::failed`]).

use std::path::Path;

use serde_json::{Map, Value};

use super::run_file::{
    as_count, as_number, error, type_name, MeasuredRun, Problem, RunFileError, RunFormat,
    RunSettings,
};
use super::{RequestTimes, RunRequest};
use crate::time::{SimDuration, SimTime};

/// How the arrivals of a `benchmark_serving` result were derived.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arrivals {
    /// `request_rate` `inf`: every request sent at once.
    AllAtOnce,
    /// A constant rate \[requests/s\]: request i at i/rate.
    Rate(f64),
    /// A ramp-up from `start` to `end` requests/s over the run.
    RampUp {
        /// Linear or exponential.
        exponential: bool,
        /// The first request's rate \[requests/s\].
        start: f64,
        /// The last request's rate \[requests/s\].
        end: f64,
    },
}

/// Keys only a `benchmark_serving` result has.
const RESULT_KEYS: [&str; 5] = [
    "ttfts",
    "input_lens",
    "mean_ttft_ms",
    "request_throughput",
    "itls",
];

/// The result object if `text` is a `benchmark_serving` result (one object, on one line as the
/// tool writes it, or pretty-printed), `None` if it is not one; an error if it is several
/// appended.
pub(super) fn detect(text: &str) -> Option<Result<Map<String, Value>, Problem>> {
    let is_result = |v: &Value| RESULT_KEYS.iter().any(|k| v.get(k).is_some());
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next()?;
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(first) {
        if !is_result(&Value::Object(object.clone())) {
            return None;
        }
        return Some(if lines.next().is_some() {
            Err(Problem::Appended)
        } else {
            Ok(object)
        });
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) if RESULT_KEYS.iter().any(|k| object.contains_key(*k)) => {
            Some(Ok(object))
        }
        _ => None,
    }
}

/// The measured run of the result `object` read from `file`; `rate` \[requests/s\] overrides
/// its request rate (infinite: all at once).
pub(super) fn read(
    file: &Path,
    object: &Map<String, Value>,
    rate: Option<f64>,
) -> Result<MeasuredRun, RunFileError> {
    let at = |field: &str, problem: Problem| error(file, None, Some(field), problem);
    if let Some(v) = object.get("max_concurrency") {
        if !v.is_null() {
            let n = as_count(v).map_err(|p| at("max_concurrency", p))?;
            return Err(at(
                "max_concurrency",
                Problem::ClientConcurrency(u64::from(n)),
            ));
        }
    }
    let array = |key: &'static str| -> Result<&Vec<Value>, RunFileError> {
        match object.get(key) {
            None => Err(at(key, Problem::NotDetailed)),
            Some(Value::Array(a)) => Ok(a),
            Some(v) => Err(at(key, Problem::NotAList(type_name(v)))),
        }
    };
    let inputs = array("input_lens")?;
    let outputs = array("output_lens")?;
    let ttfts = array("ttfts")?;
    let itls = array("itls")?;
    let n = inputs.len();
    if n == 0 {
        return Err(error(file, None, None, Problem::Empty));
    }
    for (key, a) in [("output_lens", outputs), ("ttfts", ttfts), ("itls", itls)] {
        if a.len() != n {
            return Err(at(
                key,
                Problem::LengthMismatch {
                    reference: "input_lens",
                    expected: n,
                    found: a.len(),
                },
            ));
        }
    }
    let errors = match object.get("errors") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.len() == n => Some(a),
        Some(Value::Array(a)) => {
            return Err(at(
                "errors",
                Problem::LengthMismatch {
                    reference: "input_lens",
                    expected: n,
                    found: a.len(),
                },
            ))
        }
        Some(v) => return Err(at("errors", Problem::NotAList(type_name(v)))),
    };
    let arrivals = match rate {
        Some(r) if r.is_infinite() => Arrivals::AllAtOnce,
        Some(r) => Arrivals::Rate(r),
        None => arrivals_of(object).map_err(|(field, p)| at(field, p))?,
    };
    let sends = send_times(arrivals, n);

    let mut requests = Vec::with_capacity(n);
    let mut measured = Vec::with_capacity(n);
    let mut failed = 0;
    for i in 0..n {
        let indexed = |key: &str| format!("{key}[{i}]");
        let failed_here = errors
            .and_then(|e| e[i].as_str())
            .is_some_and(|e| !e.is_empty());
        if failed_here {
            failed += 1;
            continue;
        }
        let input = as_count(&inputs[i]).map_err(|p| at(&indexed("input_lens"), p))?;
        let output = as_count(&outputs[i]).map_err(|p| at(&indexed("output_lens"), p))?;
        if output == 0 {
            return Err(at(&indexed("output_lens"), Problem::OutputZero));
        }
        let ttft = as_span(&ttfts[i]).map_err(|p| at(&indexed("ttfts"), p))?;
        let Value::Array(gaps) = &itls[i] else {
            return Err(at(&indexed("itls"), Problem::NotAList(type_name(&itls[i]))));
        };
        let mut decode = 0.0;
        for (j, gap) in gaps.iter().enumerate() {
            decode += as_span(gap).map_err(|p| at(&format!("itls[{i}][{j}]"), p))?;
        }
        let send = sends[i];
        let first = send + ttft;
        let last = first + decode;
        if last > SimDuration::LONGEST_INPUT.as_secs_f64() {
            return Err(at(&indexed("itls"), Problem::TooLate));
        }
        let time = |s: f64| SimTime::ZERO + SimDuration::from_secs_f64(s);
        requests.push(RunRequest {
            arrival: time(send),
            input,
            output,
        });
        measured.push(RequestTimes {
            arrival: time(send),
            first_token: time(first),
            last_token: time(last),
            output,
        });
    }
    if measured.is_empty() {
        return Err(at("errors", Problem::AllFailed));
    }
    if measured.iter().all(|m| m.output < 2) {
        return Err(at("output_lens", Problem::NoTpot));
    }
    Ok(MeasuredRun {
        file: file.to_path_buf(),
        format: RunFormat::BenchmarkServing(arrivals),
        requests,
        measured,
        settings: RunSettings::default(),
        failed,
    })
}

/// A non-negative finite time span \[s\].
fn as_span(v: &Value) -> Result<f64, Problem> {
    let s = as_number(v)?;
    if s < 0.0 {
        return Err(Problem::Negative(s));
    }
    Ok(s)
}

/// The arrivals the result's own fields give: a ramp-up, else `request_rate`.
fn arrivals_of(object: &Map<String, Value>) -> Result<Arrivals, (&'static str, Problem)> {
    match object.get("ramp_up_strategy") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "linear" || s == "exponential" => {
            let rps = |key: &'static str| -> Result<f64, (&'static str, Problem)> {
                let r = as_number(object.get(key).ok_or((key, Problem::Missing))?)
                    .map_err(|p| (key, p))?;
                if r > 0.0 {
                    Ok(r)
                } else {
                    Err((key, Problem::NotPositive(r)))
                }
            };
            return Ok(Arrivals::RampUp {
                exponential: s == "exponential",
                start: rps("ramp_up_start_rps")?,
                end: rps("ramp_up_end_rps")?,
            });
        }
        Some(v) => {
            return Err((
                "ramp_up_strategy",
                Problem::Unknown {
                    found: v.to_string(),
                    expected: "\"linear\" or \"exponential\"",
                },
            ))
        }
    }
    match object.get("request_rate") {
        None | Some(Value::Null) => Err(("request_rate", Problem::NoRate)),
        Some(Value::String(s)) if s == "inf" => Ok(Arrivals::AllAtOnce),
        Some(Value::String(s)) => Err((
            "request_rate",
            Problem::Unknown {
                found: s.clone(),
                expected: "a number of requests per second or \"inf\"",
            },
        )),
        Some(v) => {
            let r = as_number(v).map_err(|p| ("request_rate", p))?;
            if r > 0.0 {
                Ok(Arrivals::Rate(r))
            } else {
                Err(("request_rate", Problem::NotPositive(r)))
            }
        }
    }
}

/// The expected send time \[s\] of each of `n` requests after the first (see the module doc).
pub fn send_times(arrivals: Arrivals, n: usize) -> Vec<f64> {
    let last = n.saturating_sub(1).max(1) as f64;
    let mut t = 0.0;
    (0..n)
        .map(|i| {
            match arrivals {
                Arrivals::AllAtOnce => {}
                Arrivals::Rate(r) => t = i as f64 / r,
                Arrivals::RampUp {
                    exponential,
                    start,
                    end,
                } => {
                    if i > 0 {
                        let progress = i as f64 / last;
                        let rate = if exponential {
                            start * (end / start).powf(progress)
                        } else {
                            start + (end - start) * progress
                        };
                        t += 1.0 / rate;
                    }
                }
            }
            t
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::run_file::read_run;
    use std::path::PathBuf;

    /// Three requests as `benchmark_serving --save-result` writes them (on one line), the
    /// second failed.
    fn result(extra: &str) -> String {
        format!(
            r#"{{"date": "20250101-000000", "backend": "vllm", "request_rate": 4.0, "burstiness": 1.0, "max_concurrency": null, "duration": 2.0, "completed": 2, "input_lens": [100, 50, 30], "output_lens": [3, 0, 2], "ttfts": [0.25, 0.0, 0.5], "itls": [[0.125, 0.125], [], [0.25]], "errors": ["", "Bad Request", ""], "mean_ttft_ms": 375.0{extra}}}"#
        )
    }

    fn read_text(text: &str, rate: Option<f64>) -> Result<MeasuredRun, RunFileError> {
        let dir = tempfile::tempdir().unwrap();
        let path: PathBuf = dir.path().join("vllm-4.0qps.json");
        std::fs::write(&path, text).unwrap();
        read_run(&path, rate)
    }

    #[test]
    fn a_result_gives_expected_arrivals_and_client_times() {
        let run = read_text(&result(""), None).unwrap();
        let ms = |m: u64| SimTime::ZERO + SimDuration::from_millis(m);
        assert_eq!(run.format, RunFormat::BenchmarkServing(Arrivals::Rate(4.0)));
        assert_eq!(run.failed, 1);
        // Requests 0 and 2 at 0/4 and 2/4 s; the failed one is left out.
        assert_eq!(
            run.requests,
            vec![
                RunRequest {
                    arrival: ms(0),
                    input: 100,
                    output: 3
                },
                RunRequest {
                    arrival: ms(500),
                    input: 30,
                    output: 2
                },
            ]
        );
        assert_eq!(
            run.measured,
            vec![
                RequestTimes {
                    arrival: ms(0),
                    first_token: ms(250),
                    last_token: ms(500),
                    output: 3
                },
                RequestTimes {
                    arrival: ms(500),
                    first_token: ms(1000),
                    last_token: ms(1250),
                    output: 2
                },
            ]
        );
        // Pretty-printed, as a person may save it: the same run.
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&result("")).unwrap())
                .unwrap();
        assert_eq!(read_text(&pretty, None).unwrap().measured, run.measured);
    }

    #[test]
    fn the_rate_comes_from_the_file_the_flag_or_a_ramp_up() {
        let all = read_text(
            &result("").replace("4.0, \"burstiness", "\"inf\", \"burstiness"),
            None,
        )
        .unwrap();
        assert_eq!(all.format, RunFormat::BenchmarkServing(Arrivals::AllAtOnce));
        assert!(all.requests.iter().all(|r| r.arrival == SimTime::ZERO));
        let flag = read_text(&result(""), Some(2.0)).unwrap();
        assert_eq!(
            flag.requests[1].arrival,
            SimTime::ZERO + SimDuration::from_secs(1)
        );
        let inf = read_text(&result(""), Some(f64::INFINITY)).unwrap();
        assert_eq!(inf.format, RunFormat::BenchmarkServing(Arrivals::AllAtOnce));
        // Linear from 1 to 3 requests/s over 3 requests: rates 1, 2, 3; sends at 0, ½, ½ + ⅓.
        let t = send_times(
            Arrivals::RampUp {
                exponential: false,
                start: 1.0,
                end: 3.0,
            },
            3,
        );
        assert_eq!(t, vec![0.0, 0.5, 0.5 + 1.0 / 3.0]);
        // Exponential from 1 to 4: rates 1, 2, 4.
        let t = send_times(
            Arrivals::RampUp {
                exponential: true,
                start: 1.0,
                end: 4.0,
            },
            3,
        );
        assert_eq!(t, vec![0.0, 0.5, 0.75]);
        let ramp = read_text(
            &result(
                r#", "ramp_up_strategy": "linear", "ramp_up_start_rps": 1, "ramp_up_end_rps": 3"#,
            ),
            None,
        )
        .unwrap();
        assert_eq!(
            ramp.format,
            RunFormat::BenchmarkServing(Arrivals::RampUp {
                exponential: false,
                start: 1.0,
                end: 3.0
            })
        );
    }

    #[test]
    fn every_bad_result_names_its_field() {
        let r = result("");
        let cases: Vec<(String, &str, Problem)> = vec![
            (
                r.replace(r#""input_lens": [100, 50, 30], "#, ""),
                "input_lens",
                Problem::NotDetailed,
            ),
            (
                r.replace("[3, 0, 2]", "[3, 0]"),
                "output_lens",
                Problem::LengthMismatch {
                    reference: "input_lens",
                    expected: 3,
                    found: 2,
                },
            ),
            (
                r.replace("[3, 0, 2]", "[3, 0, 0]"),
                "output_lens[2]",
                Problem::OutputZero,
            ),
            (
                r.replace("[100, 50, 30]", "[100, 50, \"x\"]"),
                "input_lens[2]",
                Problem::NotANumber("a string"),
            ),
            (
                r.replace("[0.25, 0.0, 0.5]", "[0.25, 0.0, -0.5]"),
                "ttfts[2]",
                Problem::Negative(-0.5),
            ),
            (
                r.replace("[[0.125, 0.125]", "[[0.125, true]"),
                "itls[0][1]",
                Problem::NotANumber("a boolean"),
            ),
            (
                r.replace("[[0.125, 0.125]", "[0.25"),
                "itls[0]",
                Problem::NotAList("a number"),
            ),
            (
                r.replace("\"ttfts\": [0.25, 0.0, 0.5]", "\"ttfts\": 0.25"),
                "ttfts",
                Problem::NotAList("a number"),
            ),
            (
                r.replace("\"request_rate\": 4.0, ", ""),
                "request_rate",
                Problem::NoRate,
            ),
            (
                r.replace("4.0, \"burstiness", "0, \"burstiness"),
                "request_rate",
                Problem::NotPositive(0.0),
            ),
            (
                r.replace("4.0, \"burstiness", "\"fast\", \"burstiness"),
                "request_rate",
                Problem::Unknown {
                    found: "fast".into(),
                    expected: "a number of requests per second or \"inf\"",
                },
            ),
            (
                r.replace("\"max_concurrency\": null", "\"max_concurrency\": 8"),
                "max_concurrency",
                Problem::ClientConcurrency(8),
            ),
            (
                r.replace("[\"\", \"Bad Request\", \"\"]", "[\"x\", \"y\", \"z\"]"),
                "errors",
                Problem::AllFailed,
            ),
            (
                result(r#", "ramp_up_strategy": "sudden""#),
                "ramp_up_strategy",
                Problem::Unknown {
                    found: "\"sudden\"".into(),
                    expected: "\"linear\" or \"exponential\"",
                },
            ),
        ];
        for (text, field, problem) in cases {
            let e = read_text(&text, None).unwrap_err();
            assert_eq!(
                (e.field.as_deref(), &e.problem),
                (Some(field), &problem),
                "{text}"
            );
            assert!(e.to_string().contains("\nhelp: "));
        }
        // NaN in a result is not JSON: the file is not recognised as a result, and reads as a
        // JSON-lines run whose line 1 is not JSON.
        let e = read_text(&r.replace("[0.25, 0.0, 0.5]", "[NaN, 0.0, 0.5]"), None).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(matches!(e.problem, Problem::NotJson(_)), "{e:?}");
        // Two results appended (`--append-result`).
        let e = read_text(&format!("{r}\n{r}\n"), None).unwrap_err();
        assert_eq!(e.problem, Problem::Appended);
    }
}
