//! Comparisons of results, as proptest checks.

use ndarray::{Array, ArrayBase, ArrayViewMut, Data, Dimension};
use proptest::prelude::*;

use super::layouts::{Layout, Stored};
use super::scalar::Scalar;

/// Same shape and every element close.
pub fn all_close<T, S1, S2, D>(a: &ArrayBase<S1, D>, b: &ArrayBase<S2, D>) -> bool
where
    T: Scalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(&x, &y)| T::close(x, y))
}

/// Both results `Ok` and close, or both the same error.
pub fn check_same_outcome<T: Scalar, D: Dimension>(
    got: convolve::Result<Array<T, D>>,
    want: convolve::Result<Array<T, D>>,
) -> Result<(), TestCaseError> {
    match (got, want) {
        (Ok(got), Ok(want)) => prop_assert!(all_close(&got, &want), "got {got:?}\nwant {want:?}"),
        (got, want) => prop_assert_eq!(got.map(|_| ()), want.map(|_| ())),
    }
    Ok(())
}

/// Calls an `_into` form on a NaN-filled output stored in `layout`, and
/// checks that it returns `want`'s error, or writes every element of the
/// view with `want`'s values and nothing around the view.
pub fn check_into<D: Dimension>(
    want: convolve::Result<Array<f64, D>>,
    layout: Layout,
    call: impl FnOnce(&mut ArrayViewMut<'_, f64, D>) -> convolve::Result<()>,
) -> Result<(), TestCaseError> {
    // When the call must fail, any output shape does.
    let shape = want
        .as_ref()
        .map_or_else(|_| D::zeros(D::NDIM.unwrap_or(2)), |y| y.raw_dim());
    let mut out = Stored::new(&Array::from_elem(shape, f64::NAN), layout, f64::NAN);
    let result = call(&mut out.view_mut());
    let want = match want {
        Ok(want) => want,
        Err(e) => {
            prop_assert_eq!(result, Err(e));
            return Ok(());
        }
    };
    result?;
    let view = out.view();
    prop_assert!(
        view.iter().all(|v| v.is_finite()),
        "an element was not written: {view:?}"
    );
    prop_assert!(all_close(&view, &want), "got {view:?}\nwant {want:?}");
    let junk = out.base().iter().filter(|v| v.is_nan()).count();
    prop_assert_eq!(junk, out.base().len() - view.len(), "written outside the view");
    Ok(())
}
