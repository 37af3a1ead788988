//! Arrays of any shape from a bounded allocation.
//!
//! An [`Operand`] allocates at most [`ALLOC_CAP`] elements and shows them
//! as an array of the requested shape: axes too long to allocate are
//! broadcast (stride 0) from a length-1 axis, so a `[3, 2^40]` input costs
//! three elements and still reaches the crate with its real shape.

use ndarray::{Array, ArrayView, Axis, Dimension, ShapeBuilder, Slice};

use crate::gen::{Layout, Value};

/// The most elements one operand allocates.
pub const ALLOC_CAP: usize = 4096;

/// An array of shape `shape`, stored as `base` broadcast to it.
#[derive(Debug, Clone)]
pub struct Operand<A, D: Dimension> {
    base: Array<A, D>,
    shape: D,
}

impl<A: Copy, D: Dimension> Operand<A, D> {
    /// An operand of `shape` whose elements are `values` (cycled, converted
    /// by `convert`) stored in `layout`; `None` when ndarray cannot
    /// represent the shape at all (more than `isize::MAX` elements).
    pub fn new(shape: D, values: &[Value], convert: impl Fn(Value) -> A, layout: Layout) -> Option<Self> {
        Self::with_cap(shape, values, convert, layout, ALLOC_CAP)
    }

    /// [`Operand::new`], allocating at most `cap` elements.
    pub fn with_cap(
        shape: D,
        values: &[Value],
        convert: impl Fn(Value) -> A,
        layout: Layout,
        cap: usize,
    ) -> Option<Self> {
        let mut base_shape = shape.clone();
        let mut kept = 1usize;
        for len in base_shape.slice_mut() {
            // Keep an axis whole while the nonzero lengths kept so far fit the cap.
            match kept.checked_mul(*len) {
                Some(0) => {}
                Some(product) if product <= cap => kept = product,
                _ => *len = 1,
            }
        }
        let count = base_shape.size_checked()?;
        let data: Vec<A> = if values.is_empty() {
            (0..count).map(|i| convert(Value::Int((i % 7) as i8 - 3))).collect()
        } else {
            values.iter().cycle().take(count).map(|&v| convert(v)).collect()
        };
        let standard = Array::from_shape_vec(base_shape.clone(), data).ok()?;
        let base = relayout(standard, layout);
        base.broadcast(shape.clone())?;
        Some(Operand { base, shape })
    }

    /// The operand as a (possibly broadcast) view.
    pub fn view(&self) -> ArrayView<'_, A, D> {
        self.base
            .broadcast(self.shape.clone())
            .expect("checked in Operand::new")
    }

    /// Whether every element is stored (nothing is broadcast).
    pub fn is_materialized(&self) -> bool {
        self.base.raw_dim() == self.shape
    }

    /// The stored elements: every distinct value of the operand.
    pub fn stored(&self) -> impl Iterator<Item = &A> {
        self.base.iter()
    }

    /// The operand with `f` applied to every element.
    pub fn map<B: Copy>(&self, f: impl Fn(A) -> B) -> Operand<B, D> {
        Operand {
            base: self.base.mapv(f),
            shape: self.shape.clone(),
        }
    }
}

/// `array` with the same content in the memory layout `layout`.
pub fn relayout<A: Copy, D: Dimension>(array: Array<A, D>, layout: Layout) -> Array<A, D> {
    let Some(&first) = array.iter().next() else {
        return array;
    };
    let ndim = array.ndim();
    match layout {
        Layout::Standard => array,
        Layout::Fortran => {
            let mut f = Array::from_elem(array.raw_dim().f(), first);
            f.assign(&array);
            f
        }
        Layout::Reversed => {
            let mut r = array.slice_axis(Axis(0), Slice::new(0, None, -1)).to_owned();
            r.invert_axis(Axis(0));
            r
        }
        Layout::Strided => {
            let last = Axis(ndim - 1);
            let mut wide_shape = array.raw_dim();
            wide_shape[ndim - 1] *= 2;
            let mut wide = Array::from_elem(wide_shape, first);
            wide.slice_axis_mut(last, Slice::new(0, None, 2)).assign(&array);
            wide.slice_axis_inplace(last, Slice::new(0, None, 2));
            wide
        }
    }
}
