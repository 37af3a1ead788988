//! Separable (rank-1) kernels: a `kh × kw` kernel that is the outer product
//! `u vᵀ` of a column and a row runs as two one-dimensional passes, `kw`
//! then `kh` multiply-adds per output instead of `kh · kw`.
//!
//! ```text
//!   1 2 1       1
//!   2 4 2   =   2  ×  1 2 1      rows with v, then columns with u
//!   1 2 1       1
//! ```
//!
//! The boundary rule extends each axis on its own, so the row pass applies
//! the column padding and the column pass the row padding: a padded row of
//! `Wrap`, `Symmetric`, `Reflect` or `Replicate` is a copy of an input row,
//! and a padded row of `Fill(c)` holds `c · Σ v`.

use ndarray::{s, ArrayView2, ArrayView4, ArrayViewMut4, Axis};
use num_traits::Float;

use super::vectorized;
use crate::conv::element::Element;
use crate::conv::exec::scratch::{prefix, Pool, Workspace};
use crate::conv::problem::Problem;
use crate::shape::AxisGeometry;

/// The factors of a problem's kernels, with the buffers the two passes
/// work in (kept from call to call by a [`Conv2dPlan`](crate::Conv2dPlan)).
/// `pub` only because the sealed element `Capabilities` name it; the
/// module is private.
pub struct Factors<A> {
    /// `(u, v)` for each output channel.
    pairs: Vec<(Vec<A>, Vec<A>)>,
    /// The row pass's result.
    rows_done: Pool<Vec<A>>,
    /// The scratch of the row pass, then of the column pass: apart, so
    /// that each buffer always serves the same pass and stops growing
    /// after its first use.
    passes: [Workspace<A>; 2],
}

/// The factors `(u, v)` of every kernel of `problem` (one per output
/// channel), or `None` unless each has one input channel and is rank 1 to
/// within a few rounding errors of its largest tap.
pub(crate) fn factors<A: Element + Float>(problem: &Problem<'_, A>) -> Option<Factors<A>> {
    if problem.weight.shape()[1] != 1 || problem.weight.shape()[0] != problem.groups {
        return None;
    }
    let pairs = problem
        .weight
        .outer_iter()
        .map(|w| rank_one(w.index_axis(Axis(0), 0)))
        .collect::<Option<_>>()?;
    Some(Factors {
        pairs,
        rows_done: Pool::default(),
        passes: Default::default(),
    })
}

fn rank_one<A: Element + Float>(k: ArrayView2<'_, A>) -> Option<(Vec<A>, Vec<A>)> {
    // A NaN compares as equal to everything below, so it could hide the
    // largest tap; a kernel with a non-finite tap is never factored.
    if !k.iter().all(|v| v.is_finite()) {
        return None;
    }
    let ((p, q), &peak) = k
        .indexed_iter()
        .max_by(|a, b| a.1.abs().partial_cmp(&b.1.abs()).unwrap_or(std::cmp::Ordering::Equal))?;
    if peak == A::zero() {
        return Some((vec![A::zero(); k.nrows()], vec![A::zero(); k.ncols()]));
    }
    let u: Vec<A> = k.column(q).to_vec();
    let v: Vec<A> = k.row(p).iter().map(|&x| x / peak).collect();
    let tolerance = A::epsilon() * A::from(16.0)? * peak.abs();
    let exact = k
        .indexed_iter()
        .all(|((a, b), &x)| (x - u[a] * v[b]).abs() <= tolerance);
    exact.then_some((u, v))
}

/// Computes `problem` into `out` with the factors of its kernels.
pub(crate) fn run<A: Element + Float>(problem: &Problem<'_, A>, factors: &Factors<A>, mut out: ArrayViewMut4<'_, A>) {
    let [rows, cols] = problem.geometry;
    let out_cols = out.shape()[3];
    let [batch, height] = [problem.input.shape()[0], problem.input.shape()[2]];
    factors.rows_done.with(|rows_done| {
        for n in 0..batch {
            for (g, (u, v)) in factors.pairs.iter().enumerate() {
                let plane = problem.input.slice(s![n..=n, g..=g, .., ..]);
                // Rows first: every input row, padded and strided along columns.
                let row_kernel = ArrayView4::from_shape((1, 1, 1, v.len()), v).expect("1 × kw taps");
                let mut rows_done = ndarray::ArrayViewMut4::from_shape(
                    (1, 1, height, out_cols),
                    prefix(rows_done, height * out_cols, 0),
                )
                .expect("H × Wo elements");
                let identity = |len: usize| AxisGeometry::new(len, 1).along(rows.axis);
                let row_pass = Problem {
                    input: plane,
                    weight: row_kernel,
                    bias: None,
                    conjugate_kernel: false,
                    geometry: [identity(height), cols],
                    groups: 1,
                    boundary: problem.boundary,
                    fill: problem.fill,
                    prepared: None,
                    workspace: Some(&factors.passes[0]),
                };
                vectorized::run(&row_pass, rows_done.view_mut());
                // Then columns, padding with what a padded row would have given.
                let fill = v.iter().fold(A::zero(), |acc, &t| acc + t * problem.fill);
                let column_kernel = ArrayView4::from_shape((1, 1, u.len(), 1), u).expect("kh × 1 taps");
                let column_pass = Problem {
                    input: rows_done.view(),
                    weight: column_kernel,
                    bias: None,
                    conjugate_kernel: false,
                    geometry: [rows, AxisGeometry::new(out_cols, 1).along(cols.axis)],
                    groups: 1,
                    boundary: problem.boundary,
                    fill,
                    prepared: None,
                    workspace: Some(&factors.passes[1]),
                };
                let mut dst = out.slice_mut(s![n..=n, g..=g, .., ..]);
                vectorized::run(&column_pass, dst.view_mut());
                if let Some(bias) = &problem.bias {
                    dst.mapv_inplace(|y| y + bias[g]);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use ndarray::{array, Array2, Array4};

    use super::*;
    use crate::conv::kernels::check::{check_kernel, problem, run_poisoned, sweep, Case, Sample};
    use crate::options::ConvOptions;

    /// The sweep's problems the separable path takes (one input and one
    /// output channel per group), with rank-1 kernels.
    fn rank_one_cases() -> impl Iterator<Item = Case> {
        sweep().into_iter().filter(|case| case.one_to_one()).map(Case::rank_one)
    }

    /// `run` with the factors of `problem`'s kernels, whose buffers a run
    /// over a larger, poisoned input has just used.
    fn run_factored<A: Element + Float + Sample>(problem: &Problem<'_, A>, out: ArrayViewMut4<'_, A>) {
        let factors = factors(problem).expect("rank-1 kernels factor");
        run_poisoned(problem, 6, |p, o| run(p, &factors, o));
        run(problem, &factors, out);
    }

    #[test]
    fn f32_matches_the_reference() {
        check_kernel::<f32>("separable", rank_one_cases(), run_factored);
    }

    #[test]
    fn f64_matches_the_reference() {
        check_kernel::<f64>("separable", rank_one_cases(), run_factored);
    }

    #[test]
    fn rank_one_factors_by_hand() {
        // The module docs' kernel: the largest tap is the centre 4, so
        // u is the centre column and v the centre row divided by 4.
        let (u, v) = rank_one(array![[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]].view()).unwrap();
        assert_eq!((u, v), (vec![2.0, 4.0, 2.0], vec![0.5, 1.0, 0.5]));
        // A negative largest tap: -4 at (0, 1), so u = (-4, 2) and
        // v = (2, -4) / -4 = (-0.5, 1); u vᵀ = (2, -4; -1, 2) is the kernel.
        let (u, v) = rank_one(array![[2.0f32, -4.0], [-1.0, 2.0]].view()).unwrap();
        assert_eq!((u, v), (vec![-4.0, 2.0], vec![-0.5, 1.0]));
        // One tap.
        assert_eq!(rank_one(array![[3.0]].view()), Some((vec![3.0], vec![1.0])));
        // All zero: zero factors.
        let zero = Array2::<f64>::zeros((2, 3));
        assert_eq!(rank_one(zero.view()), Some((vec![0.0; 2], vec![0.0; 3])));
    }

    #[test]
    fn rank_two_and_non_finite_kernels_do_not_factor() {
        assert_eq!(rank_one(array![[1.0, 0.0], [0.0, 1.0]].view()), None);
        assert_eq!(rank_one(array![[1.0, f64::NAN], [1.0, 1.0]].view()), None);
        assert_eq!(
            rank_one(array![[f64::NAN, f64::NAN], [f64::NAN, f64::NAN]].view()),
            None
        );
        assert_eq!(rank_one(array![[1.0, f64::INFINITY]].view()), None);
    }

    #[test]
    fn rank_one_to_within_a_few_rounding_errors() {
        // (1, 1; 1, 1 + δ): the largest tap is 1 + δ, u = (1, 1 + δ),
        // v = (1 / (1 + δ), 1), and u vᵀ misses the first tap by about δ.
        // The allowance is 16 ε times the largest tap.
        let nearly = |delta: f64| rank_one(array![[1.0, 1.0], [1.0, 1.0 + delta]].view()).is_some();
        assert!(nearly(4.0 * f64::EPSILON));
        assert!(!nearly(32.0 * f64::EPSILON));
        assert!(!nearly(1e-12));
    }

    #[test]
    fn factors_need_one_channel_in_and_out_per_group() {
        let x = Array4::<f64>::ones((1, 2, 5, 5));
        let box3 = |shape| Array4::<f64>::ones(shape);
        let depthwise = box3((2, 1, 3, 3));
        let p = problem(x.view(), depthwise.view(), None, &ConvOptions::new().groups(2));
        assert_eq!(factors(&p).map(|f| f.pairs.len()), Some(2));
        // Two outputs per group.
        let doubled = box3((4, 1, 3, 3));
        let p = problem(x.view(), doubled.view(), None, &ConvOptions::new().groups(2));
        assert!(factors(&p).is_none());
        // Two inputs per group.
        let summed = box3((1, 2, 3, 3));
        let p = problem(x.view(), summed.view(), None, &ConvOptions::new());
        assert!(factors(&p).is_none());
        // One kernel of rank 2 is enough to refuse.
        let mut mixed = box3((2, 1, 3, 3));
        mixed[[1, 0, 0, 0]] = 5.0;
        let p = problem(x.view(), mixed.view(), None, &ConvOptions::new().groups(2));
        assert!(factors(&p).is_none());
    }
}
