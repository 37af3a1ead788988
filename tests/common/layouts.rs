//! Arrays stored in odd memory layouts.

use ndarray::{Array, ArrayBase, ArrayView, ArrayViewMut, Data, Dimension, ShapeBuilder, Slice};

/// How an array's elements are laid out in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Row-major, contiguous.
    Standard,
    /// The last two axes swapped in memory (`.t()` of a row-major copy).
    Transposed,
    /// Column-major, built with `ShapeBuilder::f`.
    Fortran,
    /// Every other element along every axis of a larger array, with junk
    /// around and between.
    Stepped,
    /// Every axis with a negative stride.
    Reversed,
}

/// A copy of an array stored in a given layout; `view` shows the same
/// logical elements as the original.
pub struct Stored<T, D: Dimension> {
    base: Array<T, D>,
    layout: Layout,
}

impl<T: Clone, D: Dimension> Stored<T, D> {
    /// Stores `x` in `layout`; any element of the backing array that is not
    /// part of the view is `junk`.
    pub fn new<S: Data<Elem = T>>(x: &ArrayBase<S, D>, layout: Layout, junk: T) -> Self {
        let last = x.ndim() - 1;
        let base = match layout {
            Layout::Standard => x.as_standard_layout().into_owned(),
            Layout::Transposed => {
                let mut v = x.view();
                v.swap_axes(last - 1, last);
                v.as_standard_layout().into_owned()
            }
            Layout::Fortran => {
                let column_major = x.view().reversed_axes().iter().cloned().collect();
                Array::from_shape_vec(x.raw_dim().f(), column_major).expect("same number of elements")
            }
            Layout::Stepped => {
                let mut dim = x.raw_dim();
                for len in dim.slice_mut() {
                    *len = 2 * *len + 1;
                }
                let mut base = Array::from_elem(dim, junk);
                base.slice_each_axis_mut(|_| Slice::new(1, None, 2)).assign(x);
                base
            }
            Layout::Reversed => {
                let mut v = x.view();
                for axis in 0..=last {
                    v.invert_axis(ndarray::Axis(axis));
                }
                v.as_standard_layout().into_owned()
            }
        };
        Stored { base, layout }
    }

    /// The logical array.
    pub fn view(&self) -> ArrayView<'_, T, D> {
        let mut v = self.base.view();
        let last = v.ndim() - 1;
        match self.layout {
            Layout::Standard | Layout::Fortran => {}
            Layout::Transposed => v.swap_axes(last - 1, last),
            Layout::Stepped => v = self.base.slice_each_axis(|_| Slice::new(1, None, 2)),
            Layout::Reversed => (0..=last).for_each(|axis| v.invert_axis(ndarray::Axis(axis))),
        }
        v
    }

    /// The logical array, writable.
    pub fn view_mut(&mut self) -> ArrayViewMut<'_, T, D> {
        if self.layout == Layout::Stepped {
            return self.base.slice_each_axis_mut(|_| Slice::new(1, None, 2));
        }
        let mut v = self.base.view_mut();
        let last = v.ndim() - 1;
        match self.layout {
            Layout::Transposed => v.swap_axes(last - 1, last),
            Layout::Reversed => (0..=last).for_each(|axis| v.invert_axis(ndarray::Axis(axis))),
            _ => {}
        }
        v
    }

    /// The whole backing array, junk included.
    pub fn base(&self) -> &Array<T, D> {
        &self.base
    }
}
