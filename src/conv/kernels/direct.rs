//! The plain direct loop: the definition of a convolution, written out.
//!
//! Every other algorithm is tested against this one. It favours being
//! obviously right over being fast: each output element is a sum over
//! input channels and kernel taps, and each input read goes through the
//! boundary rule.

use ndarray::ArrayViewMut4;

use crate::conv::boundary::source_index;
use crate::conv::element::Element;
use crate::conv::problem::Problem;

/// Computes `problem` into `out`, which has the problem's output shape.
pub(crate) fn run<A: Element>(problem: &Problem<'_, A>, mut out: ArrayViewMut4<'_, A>) {
    let [rows, cols] = &problem.geometry;
    let [kh, kw] = [rows.kernel, cols.kernel];
    let channels_per_group = problem.weight.shape()[1];
    let outputs_per_group = problem.weight.shape()[0] / problem.groups;
    let fill = problem.fill;
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
                    acc = acc.plus_product(v, tap);
                }
            }
        }
        *y = match &problem.bias {
            Some(bias) => acc.plus(bias[o]),
            None => acc,
        };
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{array, Array1, Array4};
    use num_complex::Complex;

    use super::*;
    use crate::conv::kernels::check::problem;
    use crate::options::{Boundary, ConvOptions, Padding};

    /// `run` on a fresh output of the problem's shape.
    fn output<A: Element>(problem: &Problem<'_, A>) -> Array4<A> {
        let mut out = Array4::zeros(problem.output_shape());
        run(problem, out.view_mut());
        out
    }

    #[test]
    fn a_2x2_kernel_over_a_3x3_image_with_bias() {
        // x = 1 2 3 / 4 5 6 / 7 8 9, k = 1 2 / 3 4, bias 10, no padding:
        // y00 = 1·1 + 2·2 + 4·3 + 5·4 = 37, y01 = 2 + 6 + 15 + 24 = 47,
        // y10 = 4 + 10 + 21 + 32 = 67, y11 = 5 + 12 + 24 + 36 = 77; plus 10.
        let x = Array4::from_shape_vec((1, 1, 3, 3), (1..=9).collect()).unwrap();
        let k = Array4::from_shape_vec((1, 1, 2, 2), vec![1, 2, 3, 4]).unwrap();
        let bias = Array1::from(vec![10]);
        let p = problem(x.view(), k.view(), Some(bias.view()), &ConvOptions::new());
        assert_eq!(output(&p), array![[[[47, 57], [77, 87]]]]);
    }

    #[test]
    fn stride_dilation_and_each_boundary_along_a_row() {
        // The row 1 2 3 4, padded 1 on the left and 2 on the right, read
        // by the taps (1, 10) dilated by 2 at stride 2: the padded row p
        // has 7 entries, the kernel spans 3, so (7 - 3) / 2 + 1 = 3
        // outputs, y_j = p[2j] + 10·p[2j + 2]. With numpy.pad's
        // extensions (the `Boundary` docs' table):
        //   Fill(-1)   -1 | 1 2 3 4 | -1 -1   y = -1 + 20, 2 + 40, 4 - 10
        //   Wrap        4 | 1 2 3 4 |  1  2   y =  4 + 20, 2 + 40, 4 + 20
        //   Symmetric   1 | 1 2 3 4 |  4  3   y =  1 + 20, 2 + 40, 4 + 30
        //   Reflect     2 | 1 2 3 4 |  3  2   y =  2 + 20, 2 + 40, 4 + 20
        //   Replicate   1 | 1 2 3 4 |  4  4   y =  1 + 20, 2 + 40, 4 + 40
        let x = array![[[[1i64, 2, 3, 4]]]];
        let k = array![[[[1i64, 10]]]];
        let cases = [
            (Boundary::Fill(-1), [19, 42, -6]),
            (Boundary::Wrap, [24, 42, 24]),
            (Boundary::Symmetric, [21, 42, 34]),
            (Boundary::Reflect, [22, 42, 24]),
            (Boundary::Replicate, [21, 42, 44]),
        ];
        for (boundary, want) in cases {
            let options = ConvOptions::new()
                .strides(1, 2)
                .dilations(1, 2)
                .padding(Padding::Explicit {
                    top: 0,
                    bottom: 0,
                    left: 1,
                    right: 2,
                })
                .boundary(boundary);
            let p = problem(x.view(), k.view(), None, &options);
            assert_eq!(output(&p).into_raw_vec_and_offset().0, want, "{boundary:?}");
        }
    }

    #[test]
    fn channels_add_up_and_every_padded_tap_reads_the_fill() {
        // Two channels of one pixel, 5 and 7, through 3 × 3 kernels of ones
        // and of twos, padded by 1. Fill(1): each channel reads its pixel
        // once and the fill 8 times, (5 + 8)·1 + (7 + 8)·2 = 43. Wrap:
        // all 9 taps read the pixel, 9·5 + 9·7·2 = 171.
        let x = array![[[[5i64]], [[7]]]];
        let k = Array4::from_shape_fn((1, 2, 3, 3), |(_, c, _, _)| c as i64 + 1);
        let padded = ConvOptions::new().padding(Padding::uniform(1));
        let p = problem(x.view(), k.view(), None, &padded.boundary(Boundary::Fill(1)));
        assert_eq!(output(&p), array![[[[43]]]]);
        let p = problem(x.view(), k.view(), None, &padded.boundary(Boundary::Wrap));
        assert_eq!(output(&p), array![[[[171]]]]);
    }

    #[test]
    fn groups_and_conjugated_complex_taps() {
        // Two groups of one channel: 1 + i through the tap i, and 2 through
        // 1 - i, plus the bias (0.5, -1).
        // Correlation as scipy's, conjugating the tap:
        //   (1 + i)·(-i) = 1 - i, then 1.5 - i;  2·(1 + i) = 2 + 2i, then 1 + 2i.
        // Without conjugation:
        //   (1 + i)·i = -1 + i, then -0.5 + i;   2·(1 - i) = 2 - 2i, then 1 - 2i.
        let c = Complex::new;
        let x = array![[[[c(1.0, 1.0)]], [[c(2.0, 0.0)]]]];
        let k = array![[[[c(0.0, 1.0)]]], [[[c(1.0, -1.0)]]]];
        let bias = array![c(0.5, 0.0), c(-1.0, 0.0)];
        let mut p = problem(x.view(), k.view(), Some(bias.view()), &ConvOptions::new().groups(2));
        assert_eq!(output(&p), array![[[[c(-0.5, 1.0)]], [[c(1.0, -2.0)]]]]);
        p.conjugate_kernel = true;
        assert_eq!(output(&p), array![[[[c(1.5, -1.0)]], [[c(1.0, 2.0)]]]]);
    }
}
