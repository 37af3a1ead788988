//! The boundary rules, shared by the forward and backward passes: where a
//! padded position reads the input ([`source_index`]), and the gradient of
//! the padding folded back onto the input it copied ([`fold_padding`]).
//! (The fill value itself is converted to the element type once, by the
//! validation, and kept in the problem.)

use ndarray::{ArrayView4, ArrayViewMut4};

use super::element::Element;
use crate::options::Boundary;
use crate::shape::AxisGeometry;

/// Where the padded coordinate `p` along one axis reads the input: `Some`
/// index into the input, or `None` for the fill value.
///
/// The extension is periodic for `Wrap` (period `n`), `Symmetric` (`2n`)
/// and `Reflect` (`2n - 2`), which is what `numpy.pad` gives for padding of
/// any width.
#[inline]
pub(crate) fn source_index(p: usize, axis: &AxisGeometry, boundary: &Boundary) -> Option<usize> {
    let n = axis.input;
    if let Some(i) = p.checked_sub(axis.pad_lo).filter(|&i| i < n) {
        return Some(i);
    }
    // Signed position relative to the first input element; i128 holds any
    // difference of two usize values.
    let q = p as i128 - axis.pad_lo as i128;
    let n_wide = n as i128;
    let folded = match boundary {
        Boundary::Constant(_) => return None,
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

/// The padded-input gradient folded back onto the input by the boundary
/// rule, added into `out` (`[N, C, H, W]`, zeroed by the caller).
pub(crate) fn fold_padding<A: Element>(
    padded: ArrayView4<'_, A>,
    geometry: &[AxisGeometry; 2],
    boundary: &Boundary,
    mut out: ArrayViewMut4<'_, A>,
) {
    let [rows, cols] = geometry;
    for (src_image, mut dst_image) in padded.outer_iter().zip(out.outer_iter_mut()) {
        for (src, mut dst) in src_image.outer_iter().zip(dst_image.outer_iter_mut()) {
            for (p, src_row) in src.outer_iter().enumerate() {
                let Some(r) = source_index(p, rows, boundary) else {
                    continue;
                };
                let mut dst_row = dst.row_mut(r);
                for (q, &v) in src_row.iter().enumerate() {
                    if let Some(c) = source_index(q, cols, boundary) {
                        dst_row[c] = dst_row[c].plus(v);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each padded position of a 4-element row with 3 padding on
    /// each side reads, per rule. Expected values are the `numpy.pad`
    /// table in the [`Boundary`](crate::Boundary) docs (`a b c d` = indices 0 1 2 3).
    #[test]
    fn every_rule_extends_a_row_as_numpy_pad_does() {
        let axis = AxisGeometry::new(4, 1).padding(3, 3);
        let read =
            |boundary: Boundary| -> Vec<Option<usize>> { (0..10).map(|p| source_index(p, &axis, &boundary)).collect() };
        let some = |v: [usize; 10]| v.map(Some).to_vec();
        let fill = [None, None, None, Some(0), Some(1), Some(2), Some(3), None, None, None];
        assert_eq!(read(Boundary::Fill(0.0)), fill);
        assert_eq!(read(Boundary::Wrap), some([1, 2, 3, 0, 1, 2, 3, 0, 1, 2]));
        assert_eq!(read(Boundary::Symmetric), some([2, 1, 0, 0, 1, 2, 3, 3, 2, 1]));
        assert_eq!(read(Boundary::Reflect), some([3, 2, 1, 0, 1, 2, 3, 2, 1, 0]));
        assert_eq!(read(Boundary::Replicate), some([0, 0, 0, 0, 1, 2, 3, 3, 3, 3]));
    }

    #[test]
    fn padding_wider_than_the_input_folds_again() {
        // numpy.pad([a, b], 5, 'reflect') = b a b a b | a b | a b a b a.
        let axis = AxisGeometry::new(2, 1).padding(5, 5);
        let got: Vec<_> = (0..12).map(|p| source_index(p, &axis, &Boundary::Reflect)).collect();
        assert_eq!(got, [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0].map(Some).to_vec());
        // A single element reflects onto itself.
        let one = AxisGeometry::new(1, 1).padding(2, 2);
        assert!((0..5).all(|p| source_index(p, &one, &Boundary::Reflect) == Some(0)));
    }

    #[test]
    fn padding_gradient_folds_onto_the_copied_pixels() {
        // One row [x0, x1] padded by 1 on each side with Replicate reads
        // x0 x0 x1 x1: a gradient of ones gives each pixel 2.
        let rows = AxisGeometry::new(1, 1);
        let cols = AxisGeometry::new(2, 1).padding(1, 1);
        let padded = ndarray::Array4::<f64>::ones((1, 1, 1, 4));
        let mut out = ndarray::Array4::<f64>::zeros((1, 1, 1, 2));
        fold_padding(padded.view(), &[rows, cols], &Boundary::Replicate, out.view_mut());
        assert_eq!(out.into_raw_vec_and_offset().0, [2.0, 2.0]);
    }
}
