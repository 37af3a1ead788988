//! Receptive fields of a stack of layers.

use super::AxisGeometry;
use crate::error::{Error, Result};

/// One layer of a stack whose receptive field [`receptive_fields`]
/// computes: kernel taps, stride, dilation and the padding before the input.
///
/// # Examples
///
/// ```
/// use convolve::shape::Layer;
/// let layer = Layer::new(3).stride(2).padding(1);
/// assert_eq!((layer.kernel, layer.stride, layer.dilation, layer.padding), (3, 2, 1, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layer {
    /// Kernel taps.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation.
    pub dilation: usize,
    /// Padding before the input (the padding after it does not move the
    /// first output's field).
    pub padding: usize,
}

impl Layer {
    /// A layer with `kernel` taps, stride 1, dilation 1 and no padding.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::Layer;
    /// assert_eq!(Layer::new(5).kernel, 5);
    /// ```
    #[must_use]
    pub const fn new(kernel: usize) -> Self {
        Layer {
            kernel,
            stride: 1,
            dilation: 1,
            padding: 0,
        }
    }

    /// Sets the stride.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::Layer;
    /// assert_eq!(Layer::new(3).stride(2).stride, 2);
    /// ```
    #[must_use]
    pub const fn stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the dilation.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::Layer;
    /// assert_eq!(Layer::new(3).dilation(2).dilation, 2);
    /// ```
    #[must_use]
    pub const fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = dilation;
        self
    }

    /// Sets the padding before the input.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::Layer;
    /// assert_eq!(Layer::new(3).padding(1).padding, 1);
    /// ```
    #[must_use]
    pub const fn padding(mut self, padding: usize) -> Self {
        self.padding = padding;
        self
    }
}

/// The receptive field of one layer's outputs in the network's input.
///
/// Output `i` of the layer sees input positions
/// `start + i*jump ..= start + i*jump + size - 1`; `start` is negative when
/// padding puts the first field partly outside the input.
///
/// # Examples
///
/// ```
/// use convolve::shape::{receptive_fields, Layer};
/// let rf = receptive_fields(&[Layer::new(3).padding(1)])?[0];
/// assert_eq!((rf.size, rf.jump, rf.start), (3, 1, -1));
/// assert_eq!(rf.center_of(0), 0.0);
/// # Ok::<(), convolve::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReceptiveField {
    /// How many input positions one output sees.
    pub size: usize,
    /// How far apart, in input positions, two neighbouring outputs' fields
    /// start (the product of the strides so far).
    pub jump: usize,
    /// The first input position seen by output 0.
    pub start: isize,
}

impl ReceptiveField {
    /// The centre of output `i`'s field, in input coordinates.
    ///
    /// # Examples
    ///
    /// ```
    /// use convolve::shape::{receptive_fields, Layer};
    /// let rf = receptive_fields(&[Layer::new(11).stride(4)])?[0];
    /// assert_eq!(rf.center_of(1), 9.0);
    /// # Ok::<(), convolve::Error>(())
    /// ```
    #[must_use]
    pub fn center_of(&self, i: usize) -> f64 {
        self.start as f64 + (i as f64) * (self.jump as f64) + (self.size as f64 - 1.0) / 2.0
    }
}

/// The receptive field after each layer of a stack, first layer first.
///
/// With `r`, `j`, `s` the previous layer's size, jump and start (1, 1 and 0
/// for the input itself), a layer with kernel `k`, stride `t`, dilation `d`
/// and padding `p` gives size `r + d(k-1)j`, jump `j t` and start
/// `s - p j` (the recurrences of Araujo, Norris & Sim, "Computing Receptive
/// Fields of Convolutional Neural Networks", Distill 2019).
///
/// # Errors
///
/// [`Error::ZeroStride`], [`Error::ZeroDilation`], [`Error::EmptyKernel`]
/// for a bad layer, or [`Error::Overflow`].
///
/// # Examples
///
/// ```
/// use convolve::shape::{receptive_fields, Layer};
///
/// // Two 3×3 convolutions see as far as one 5×5; a stride-2 pool doubles the jump.
/// let fields = receptive_fields(&[Layer::new(3), Layer::new(3), Layer::new(2).stride(2)])?;
/// let sizes: Vec<_> = fields.iter().map(|f| (f.size, f.jump)).collect();
/// assert_eq!(sizes, [(3, 1), (5, 1), (6, 2)]);
/// # Ok::<(), convolve::Error>(())
/// ```
pub fn receptive_fields(layers: &[Layer]) -> Result<Vec<ReceptiveField>> {
    let overflow = || Error::Overflow {
        what: "the receptive field",
    };
    let mut field = ReceptiveField {
        size: 1,
        jump: 1,
        start: 0,
    };
    let mut fields = Vec::with_capacity(layers.len());
    for layer in layers {
        let extent = AxisGeometry::new(0, layer.kernel)
            .stride(layer.stride)
            .dilation(layer.dilation)
            .kernel_extent()?;
        let size = (extent - 1)
            .checked_mul(field.jump)
            .and_then(|grow| grow.checked_add(field.size))
            .ok_or_else(overflow)?;
        let shift = layer
            .padding
            .checked_mul(field.jump)
            .and_then(|shift| isize::try_from(shift).ok())
            .ok_or_else(overflow)?;
        field = ReceptiveField {
            size,
            jump: field.jump.checked_mul(layer.stride).ok_or_else(overflow)?,
            start: field.start.checked_sub(shift).ok_or_else(overflow)?,
        };
        fields.push(field);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receptive_field_of_alexnet_conv1_and_pool() {
        // conv 11/4, then max-pool 3/2: size 11 + 2*4 = 19, jump 8.
        let f = receptive_fields(&[Layer::new(11).stride(4), Layer::new(3).stride(2)]).unwrap();
        assert_eq!(f[1].size, 19);
        assert_eq!(f[1].jump, 8);
        assert_eq!(f[1].start, 0);
    }
}
