//! Matrix products for the GEMM-based kernels, on the `gemm` crate's
//! kernels (AVX-512, AVX2+FMA or portable code, chosen at run time).

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::conv::element::Element;

/// `dst = lhs · rhs`, overwriting `dst`, single-threaded (the callers
/// parallelize over blocks, which keeps results independent of the thread
/// count).
///
/// # Panics
///
/// If the shapes do not chain or `A` has no `gemm` kernel: both are bugs
/// in this crate, whose callers check `Capabilities::MATMUL` and build
/// the shapes.
pub(crate) fn matmul<A: Element>(lhs: ArrayView2<'_, A>, rhs: ArrayView2<'_, A>, dst: ArrayViewMut2<'_, A>) {
    product(lhs, rhs, dst, false);
}

/// `dst += lhs · rhs`, single-threaded, as [`matmul`].
///
/// # Panics
/// As [`matmul`].
pub(crate) fn matmul_add<A: Element>(lhs: ArrayView2<'_, A>, rhs: ArrayView2<'_, A>, dst: ArrayViewMut2<'_, A>) {
    product(lhs, rhs, dst, true);
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` when `accumulate`.
fn product<A: Element>(
    lhs: ArrayView2<'_, A>,
    rhs: ArrayView2<'_, A>,
    mut dst: ArrayViewMut2<'_, A>,
    accumulate: bool,
) {
    let (m, k) = lhs.dim();
    let n = rhs.ncols();
    assert!(
        rhs.nrows() == k && dst.dim() == (m, n),
        "matmul shapes: {:?} · {:?} -> {:?}",
        lhs.dim(),
        rhs.dim(),
        dst.dim()
    );
    assert!(A::MATMUL, "matmul called for a type without a gemm kernel");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(A::zero());
        }
        return;
    }
    let (dst_rs, dst_cs) = (dst.strides()[0], dst.strides()[1]);
    let (lhs_rs, lhs_cs) = (lhs.strides()[0], lhs.strides()[1]);
    let (rhs_rs, rhs_cs) = (rhs.strides()[0], rhs.strides()[1]);
    // SAFETY: `gemm` reads `lhs` at `i·lhs_rs + l·lhs_cs` for i < m, l < k,
    // `rhs` at `l·rhs_rs + j·rhs_cs` for l < k, j < n, and writes `dst` at
    // `i·dst_rs + j·dst_cs`: exactly the elements of the three views, whose
    // pointers and strides ndarray guarantees valid for their shapes (m, k,
    // n all nonzero here). `dst` is borrowed mutably, so it aliases neither
    // input. `A` is `f32`, `f64`, `Complex<f32>` or `Complex<f64>`, the
    // types whose `Capabilities::MATMUL` is true (asserted above; the
    // `element` module's tests pin which those are), and the types `gemm`
    // dispatches on by `TypeId` (its `c32`/`c64` are `num_complex`'s).
    // `dst` becomes `alpha · dst + beta · lhs · rhs`; its old contents are
    // read only when `accumulate` (`read_dst`), and are then the caller's
    // values.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs,
            dst_rs,
            accumulate,
            lhs.as_ptr(),
            lhs_cs,
            lhs_rs,
            rhs.as_ptr(),
            rhs_cs,
            rhs_rs,
            if accumulate { A::one() } else { A::zero() },
            A::one(),
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, s, Array2};
    use num_complex::Complex;

    #[test]
    fn products_match_a_hand_computation_in_every_layout() {
        let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let b = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        // [1+3, 2+3; 4+6, 5+6]
        let want = array![[4.0, 5.0], [10.0, 11.0]];
        let mut dst = Array2::from_elem((2, 2), f64::NAN);
        matmul(a.view(), b.view(), dst.view_mut());
        assert_eq!(dst, want);
        // Transposed, reversed and strided views of the same matrices.
        let a_t = a.t().to_owned();
        let b_rev = b.slice(s![..;-1, ..]).to_owned();
        let mut backing = Array2::from_elem((4, 4), f64::NAN);
        matmul(a_t.t(), b_rev.slice(s![..;-1, ..]), backing.slice_mut(s![..;2, ..;-2]));
        assert_eq!(backing.slice(s![..;2, ..;-2]), want);
        assert!(backing.slice(s![1..;2, ..]).iter().all(|v| v.is_nan()));
    }

    #[test]
    fn complex_and_single_precision_products() {
        let a = array![[Complex::new(1.0f32, 1.0)]];
        let b = array![[Complex::new(2.0f32, -1.0)]];
        let mut dst = Array2::zeros((1, 1));
        matmul(a.view(), b.view(), dst.view_mut());
        assert_eq!(dst[[0, 0]], Complex::new(3.0, 1.0));
        let mut dst = Array2::<f32>::from_elem((2, 1), f32::NAN);
        matmul(
            Array2::<f32>::zeros((2, 0)).view(),
            Array2::zeros((0, 1)).view(),
            dst.view_mut(),
        );
        assert_eq!(dst, array![[0.0], [0.0]]);
    }

    #[test]
    fn accumulated_products_add_to_what_is_there() {
        // [4 5; 10 11] (as above) added to [1 -1; 0.5 2], in a strided
        // view; an empty inner dimension adds nothing.
        let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let b = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let mut backing = Array2::from_elem((2, 4), f64::NAN);
        backing.slice_mut(s![.., ..;2]).assign(&array![[1.0, -1.0], [0.5, 2.0]]);
        matmul_add(a.view(), b.view(), backing.slice_mut(s![.., ..;2]));
        assert_eq!(backing.slice(s![.., ..;2]), array![[5.0, 4.0], [10.5, 13.0]]);
        assert!(backing.slice(s![.., 1..;2]).iter().all(|v| v.is_nan()));
        let mut dst = array![[1.5f32], [-2.0]];
        matmul_add(
            Array2::zeros((2, 0)).view(),
            Array2::zeros((0, 1)).view(),
            dst.view_mut(),
        );
        assert_eq!(dst, array![[1.5], [-2.0]]);
    }
}
