//! The Nelder-Mead simplex method (Nelder and Mead, "A simplex method for function
//! minimization", The Computer Journal 7(4), 1965), with the standard coefficients: reflection
//! 1, expansion 2, contraction ½ and shrink ½ (Lagarias et al., "Convergence properties of the
//! Nelder-Mead simplex method in low dimensions", SIAM J. Optim. 9(1), 1998, §2). A port of
//! `nelder_mead` in the prototype (`stepfit.py`), which contracts inside only.
//!
//! Derivative-free, as the fit needs: its objective is a replay of discrete scheduling
//! decisions, piecewise smooth at best. Deterministic: a fixed start simplex, ties between
//! equal values broken by the vertex's position, and a value that is NaN counted as +∞.

/// The best point found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Minimum<const N: usize> {
    /// Where.
    pub x: [f64; N],
    /// The function's value there.
    pub value: f64,
    /// How many times the function was evaluated.
    pub evaluations: u32,
}

/// Minimises `f` from `x0`, with a start simplex of `x0` and `x0 + step[i]·eᵢ`, until the
/// simplex's values differ by less than `tolerance` or `f` has been evaluated
/// `max_evaluations` times (at least N + 1, the start simplex).
pub fn minimize<const N: usize>(
    mut f: impl FnMut(&[f64; N]) -> f64,
    x0: [f64; N],
    step: [f64; N],
    max_evaluations: u32,
    tolerance: f64,
) -> Minimum<N> {
    // Every call is counted in `used`.
    let mut eval = |x: &[f64; N]| {
        let v = f(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    // N + 1 vertices; a Vec since `[_; N + 1]` is not expressible on stable Rust.
    let mut points: Vec<[f64; N]> = Vec::with_capacity(N + 1);
    points.push(x0);
    for i in 0..N {
        let mut p = x0;
        p[i] += step[i];
        points.push(p);
    }
    let mut values: Vec<f64> = points.iter().map(&mut eval).collect();
    let budget = max_evaluations.max(N as u32 + 1);
    let mut used = N as u32 + 1;
    loop {
        // Best first; a stable sort keeps equal values in their order: deterministic.
        let mut order: Vec<usize> = (0..=N).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        points = order.iter().map(|&i| points[i]).collect();
        values = order.iter().map(|&i| values[i]).collect();
        if values[N] - values[0] < tolerance || used >= budget {
            break;
        }
        let mut centroid = [0.0; N];
        for p in &points[..N] {
            for j in 0..N {
                centroid[j] += p[j] / N as f64;
            }
        }
        let toward = |t: f64| -> [f64; N] {
            // centroid + t·(centroid − worst)
            let mut x = [0.0; N];
            for j in 0..N {
                x[j] = centroid[j] + t * (centroid[j] - points[N][j]);
            }
            x
        };
        let xr = toward(1.0);
        let fr = eval(&xr);
        used += 1;
        if fr < values[0] {
            if used >= budget {
                points[N] = xr;
                values[N] = fr;
                continue;
            }
            let xe = toward(2.0);
            let fe = eval(&xe);
            used += 1;
            (points[N], values[N]) = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < values[N - 1] {
            (points[N], values[N]) = (xr, fr);
        } else {
            if used >= budget {
                continue;
            }
            let xc = toward(-0.5);
            let fc = eval(&xc);
            used += 1;
            if fc < values[N] {
                (points[N], values[N]) = (xc, fc);
            } else {
                let best = points[0];
                for i in 1..=N {
                    if used >= budget {
                        break;
                    }
                    for (p, b) in points[i].iter_mut().zip(best) {
                        *p = b + 0.5 * (*p - b);
                    }
                    values[i] = eval(&points[i]);
                    used += 1;
                }
            }
        }
    }
    Minimum {
        x: points[0],
        value: values[0],
        evaluations: used,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_quadratic_within_the_fit_budget() {
        let mut calls = 0;
        let m = minimize(
            |x: &[f64; 3]| {
                calls += 1;
                (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2) + (x[2] - 0.5).powi(2) + 2.0
            },
            [0.0, 0.0, 0.0],
            [0.6, 0.6, 0.7],
            200,
            1e-14,
        );
        assert_eq!(m.evaluations, calls);
        assert!(m.evaluations <= 200, "{}", m.evaluations);
        assert!((m.x[0] - 3.0).abs() < 1e-4, "{:?}", m);
        assert!((m.x[1] + 1.0).abs() < 1e-4, "{:?}", m);
        assert!((m.x[2] - 0.5).abs() < 1e-4, "{:?}", m);
        assert!((m.value - 2.0).abs() < 1e-8);
    }

    #[test]
    fn follows_the_rosenbrock_valley_to_its_minimum() {
        // The classic start (−1.2, 1) (Rosenbrock 1960); the minimum is 0 at (1, 1).
        let m = minimize(
            |x: &[f64; 2]| 100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2),
            [-1.2, 1.0],
            [0.5, 0.5],
            2000,
            1e-16,
        );
        assert!((m.x[0] - 1.0).abs() < 1e-3, "{:?}", m);
        assert!((m.x[1] - 1.0).abs() < 1e-3, "{:?}", m);
        assert!(m.value < 1e-6, "{:?}", m);
    }

    #[test]
    fn stops_at_the_evaluation_budget_and_is_deterministic() {
        let f = |x: &[f64; 2]| 100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2);
        let a = minimize(f, [-1.2, 1.0], [0.5, 0.5], 37, 0.0);
        let b = minimize(f, [-1.2, 1.0], [0.5, 0.5], 37, 0.0);
        assert_eq!(a.evaluations, 37);
        assert_eq!(a, b);
    }

    #[test]
    fn a_nan_counts_as_worse_than_anything() {
        // NaN left of 0: the method must walk right, to the minimum at 2.
        let m = minimize(
            |x: &[f64; 1]| {
                if x[0] < 0.0 {
                    f64::NAN
                } else {
                    (x[0] - 2.0).powi(2)
                }
            },
            [0.5],
            [0.5],
            200,
            1e-14,
        );
        assert!((m.x[0] - 2.0).abs() < 1e-4, "{:?}", m);
    }
}
