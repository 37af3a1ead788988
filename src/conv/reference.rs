//! The plain direct loop: the definition of a convolution, written out.
//!
//! Every other algorithm is tested against this one. It favours being
//! obviously right over being fast: each output element is a sum over
//! input channels and kernel taps, and each input read goes through the
//! boundary rule.

use ndarray::ArrayViewMut4;

use super::{Boundary, Element, Problem};
use crate::shape::AxisGeometry;

/// Where the padded coordinate `p` along one axis reads the input: `Some`
/// index into the input, or `None` for the fill value.
///
/// The extension is periodic for `Wrap` (period `n`), `Symmetric` (`2n`)
/// and `Reflect` (`2n - 2`), which is what `numpy.pad` gives for padding of
/// any width.
pub(crate) fn source_index<A>(p: usize, axis: &AxisGeometry, boundary: &Boundary<A>) -> Option<usize> {
    let n = axis.input;
    if let Some(i) = p.checked_sub(axis.pad_lo).filter(|&i| i < n) {
        return Some(i);
    }
    // Signed position relative to the first input element; i128 holds any
    // difference of two usize values.
    let q = p as i128 - axis.pad_lo as i128;
    let n_wide = n as i128;
    let folded = match boundary {
        Boundary::Fill(_) => return None,
        Boundary::Replicate => q.clamp(0, n_wide - 1),
        Boundary::Wrap => q.rem_euclid(n_wide),
        Boundary::Symmetric => {
            let m = q.rem_euclid(2 * n_wide);
            if m < n_wide {
                m
            } else {
                2 * n_wide - 1 - m
            }
        }
        Boundary::Reflect if n == 1 => 0,
        Boundary::Reflect => {
            let period = 2 * n_wide - 2;
            let m = q.rem_euclid(period);
            if m < n_wide {
                m
            } else {
                period - m
            }
        }
    };
    // `folded` lies in 0..n by construction of each arm.
    Some(folded as usize)
}

/// Computes `problem` into `out`, which has the problem's output shape.
pub(crate) fn run<A: Element>(problem: &Problem<'_, A>, mut out: ArrayViewMut4<'_, A>) {
    let [rows, cols] = &problem.geometry;
    let [kh, kw] = [rows.kernel, cols.kernel];
    let channels_per_group = problem.weight.shape()[1];
    let outputs_per_group = problem.weight.shape()[0] / problem.groups;
    let fill = match problem.boundary {
        Boundary::Fill(v) => v,
        _ => A::zero(),
    };
    for ((n, o, i, j), y) in out.indexed_iter_mut() {
        let group = o / outputs_per_group;
        let mut acc = A::zero();
        for c in 0..channels_per_group {
            let plane = problem.input.index_axis(ndarray::Axis(0), n);
            let plane = plane.index_axis(ndarray::Axis(0), group * channels_per_group + c);
            for a in 0..kh {
                let r = source_index(i * rows.stride + a * rows.dilation, rows, &problem.boundary);
                for b in 0..kw {
                    let s = source_index(j * cols.stride + b * cols.dilation, cols, &problem.boundary);
                    let v = match (r, s) {
                        (Some(r), Some(s)) => plane[[r, s]],
                        _ => fill,
                    };
                    let mut tap = problem.weight[[o, c, a, b]];
                    if problem.conjugate_kernel {
                        tap = tap.conj();
                    }
                    acc = acc.mul_add(v, tap);
                }
            }
        }
        *y = match &problem.bias {
            Some(bias) => acc.plus(bias[o]),
            None => acc,
        };
    }
}
