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

use ndarray::{s, Array4, ArrayView2, ArrayViewMut4, Axis};
use num_traits::Float;

use super::{sliding, Boundary, Element, Problem};
use crate::shape::AxisGeometry;

/// The factors `(u, v)` of every kernel of `problem` (one per output
/// channel), or `None` unless each has one input channel and is rank 1 to
/// within a few rounding errors of its largest tap.
pub(crate) fn factors<A: Element + Float>(problem: &Problem<'_, A>) -> Option<Vec<(Vec<A>, Vec<A>)>> {
    if problem.weight.shape()[1] != 1 || problem.weight.shape()[0] != problem.groups {
        return None;
    }
    problem
        .weight
        .outer_iter()
        .map(|w| rank_one(w.index_axis(Axis(0), 0)))
        .collect()
}

fn rank_one<A: Element + Float>(k: ArrayView2<'_, A>) -> Option<(Vec<A>, Vec<A>)> {
    let ((p, q), &peak) = k
        .indexed_iter()
        .max_by(|a, b| a.1.abs().partial_cmp(&b.1.abs()).unwrap_or(std::cmp::Ordering::Equal))?;
    if !peak.is_finite() {
        return None;
    }
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
pub(crate) fn run<A: Element + Float>(
    problem: &Problem<'_, A>,
    factors: &[(Vec<A>, Vec<A>)],
    mut out: ArrayViewMut4<'_, A>,
) {
    let [rows, cols] = problem.geometry;
    let out_cols = out.shape()[3];
    let [batch, height] = [problem.input.shape()[0], problem.input.shape()[2]];
    for n in 0..batch {
        for (g, (u, v)) in factors.iter().enumerate() {
            let plane = problem.input.slice(s![n..=n, g..=g, .., ..]);
            // Rows first: every input row, padded and strided along columns.
            let row_kernel = Array4::from_shape_vec((1, 1, 1, v.len()), v.clone()).expect("1 × kw taps");
            let mut rows_done = Array4::zeros((1, 1, height, out_cols));
            let identity = |len: usize| AxisGeometry::new(len, 1).along(rows.axis);
            let row_pass = Problem {
                input: plane,
                weight: row_kernel.view(),
                bias: None,
                conjugate_kernel: false,
                geometry: [identity(height), cols],
                groups: 1,
                boundary: problem.boundary,
                prepared: None,
            };
            sliding::run(&row_pass, rows_done.view_mut());
            // Then columns, padding with what a padded row would have given.
            let boundary = match problem.boundary {
                Boundary::Fill(c) => Boundary::Fill(v.iter().fold(A::zero(), |acc, &t| acc + t * c)),
                other => other,
            };
            let column_kernel = Array4::from_shape_vec((1, 1, u.len(), 1), u.clone()).expect("kh × 1 taps");
            let column_pass = Problem {
                input: rows_done.view(),
                weight: column_kernel.view(),
                bias: None,
                conjugate_kernel: false,
                geometry: [rows, AxisGeometry::new(out_cols, 1).along(cols.axis)],
                groups: 1,
                boundary,
                prepared: None,
            };
            let mut dst = out.slice_mut(s![n..=n, g..=g, .., ..]);
            sliding::run(&column_pass, dst.view_mut());
            if let Some(bias) = &problem.bias {
                dst.mapv_inplace(|y| y + bias[g]);
            }
        }
    }
}
