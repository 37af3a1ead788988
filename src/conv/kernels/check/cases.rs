//! The cases every kernel is checked on: a sweep over strides,
//! dilations, boundary rules, wide paddings, groups, bias, batch sizes,
//! odd layouts and sizes that cross blocks.

use super::Sample;
use crate::options::{Boundary, ConvOptions, Padding};

/// The boundary rule of a case; [`Edge::Fill`] takes the type's
/// [`Sample::FILL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edge {
    Zero,
    Fill,
    Wrap,
    Symmetric,
    Reflect,
    Replicate,
}

pub(crate) const EDGES: [Edge; 6] = [
    Edge::Zero,
    Edge::Fill,
    Edge::Wrap,
    Edge::Symmetric,
    Edge::Reflect,
    Edge::Replicate,
];

impl Edge {
    pub(crate) fn boundary<A: Sample>(self) -> Boundary {
        match self {
            Edge::Zero => Boundary::Fill(A::zero()),
            Edge::Fill => Boundary::Fill(A::FILL),
            Edge::Wrap => Boundary::Wrap,
            Edge::Symmetric => Boundary::Symmetric,
            Edge::Reflect => Boundary::Reflect,
            Edge::Replicate => Boundary::Replicate,
        }
    }
}

/// How a case's arrays lie in memory. Whatever the layout, the logical
/// values are the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Every array in standard (row-major) order.
    Standard,
    /// The input's planes stored transposed (column-major).
    TransposedInput,
    /// The input every other column of a larger poisoned array, offset by
    /// a channel and a row; the bias every other element of one.
    SlicedInput,
    /// The weights stored with both kernel axes reversed, viewed through
    /// negative strides.
    ReversedWeight,
    /// The output every other column of a larger array, its rows in
    /// reverse order.
    StridedOutput,
    /// The output rows contiguous, the planes not (three spare columns
    /// after each row).
    PaddedOutputRows,
}

pub(crate) const LAYOUTS: [Layout; 6] = [
    Layout::Standard,
    Layout::TransposedInput,
    Layout::SlicedInput,
    Layout::ReversedWeight,
    Layout::StridedOutput,
    Layout::PaddedOutputRows,
];

/// The shapes and options of one problem of a sweep, without its data.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Case {
    /// `[N, C, H, W]`.
    pub(crate) input: [usize; 4],
    pub(crate) out_channels: usize,
    /// `[kh, kw]`.
    pub(crate) kernel: [usize; 2],
    pub(crate) stride: [usize; 2],
    pub(crate) dilation: [usize; 2],
    pub(crate) padding: Padding,
    pub(crate) groups: usize,
    pub(crate) edge: Edge,
    pub(crate) bias: bool,
    pub(crate) layout: Layout,
    pub(crate) conjugate: bool,
    /// Every kernel the outer product of a column and a row.
    pub(crate) rank_one: bool,
}

impl Case {
    /// An input of shape `[N, C, H, W]` through `out_channels` kernels of
    /// `kernel` taps, with the defaults of `ConvOptions` and standard
    /// layouts.
    pub(crate) const fn new(input: [usize; 4], out_channels: usize, kernel: [usize; 2]) -> Self {
        Case {
            input,
            out_channels,
            kernel,
            stride: [1, 1],
            dilation: [1, 1],
            padding: Padding::Valid,
            groups: 1,
            edge: Edge::Zero,
            bias: false,
            layout: Layout::Standard,
            conjugate: false,
            rank_one: false,
        }
    }

    pub(crate) const fn stride(mut self, rows: usize, cols: usize) -> Self {
        self.stride = [rows, cols];
        self
    }

    pub(crate) const fn dilation(mut self, rows: usize, cols: usize) -> Self {
        self.dilation = [rows, cols];
        self
    }

    pub(crate) const fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    pub(crate) const fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    pub(crate) const fn edge(mut self, edge: Edge) -> Self {
        self.edge = edge;
        self
    }

    pub(crate) const fn bias(mut self) -> Self {
        self.bias = true;
        self
    }

    pub(crate) const fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    pub(crate) const fn conjugate(mut self) -> Self {
        self.conjugate = true;
        self
    }

    pub(crate) const fn rank_one(mut self) -> Self {
        self.rank_one = true;
        self
    }

    /// One input and one output channel per group (single-channel
    /// filtering and plain depthwise convolution).
    pub(crate) const fn one_to_one(&self) -> bool {
        self.input[1] == self.groups && self.out_channels == self.groups
    }

    pub(crate) const fn unit_stride(&self) -> bool {
        self.stride[0] == 1 && self.stride[1] == 1
    }

    pub(crate) fn options<A: Sample>(&self) -> ConvOptions {
        ConvOptions::new()
            .strides(self.stride[0], self.stride[1])
            .dilations(self.dilation[0], self.dilation[1])
            .padding(self.padding)
            .groups(self.groups)
            .boundary(self.edge.boundary::<A>())
    }
}

const fn pad(top: usize, bottom: usize, left: usize, right: usize) -> Padding {
    Padding::Explicit {
        top,
        bottom,
        left,
        right,
    }
}

/// The problems every kernel is checked on (a kernel with restrictions
/// filters them): each option at each of its kinds of value, and sizes
/// chosen against the kernels' blocking.
pub(crate) fn sweep() -> Vec<Case> {
    let mut cases = vec![
        // One pixel; a row and a column of 17 outputs (a register block of
        // 16 and one more); 17² outputs; 138 outputs a row (two 64-wide
        // register blocks and one overlapping them).
        Case::new([1, 1, 1, 1], 1, [1, 1]),
        Case::new([1, 1, 1, 19], 1, [1, 3]),
        Case::new([1, 1, 19, 1], 1, [3, 1])
            .padding(Padding::Same)
            .edge(Edge::Fill),
        Case::new([1, 1, 17, 17], 1, [3, 3]).padding(Padding::Same).bias(),
        Case::new([1, 1, 3, 140], 1, [3, 3]).bias(),
        // Batches of 0 (nothing to write), 1 and 2.
        Case::new([0, 2, 5, 6], 4, [3, 3]).padding(pad(1, 1, 1, 1)).bias(),
        Case::new([2, 2, 5, 6], 4, [3, 3]).padding(pad(1, 1, 1, 1)).bias(),
        // Two groups; depthwise; depthwise with two outputs per channel;
        // many channels into many outputs.
        Case::new([2, 4, 7, 9], 6, [3, 3])
            .groups(2)
            .padding(pad(1, 1, 1, 1))
            .bias(),
        Case::new([1, 4, 9, 8], 4, [3, 3])
            .groups(4)
            .padding(Padding::Same)
            .edge(Edge::Reflect)
            .bias(),
        Case::new([1, 3, 8, 9], 6, [3, 2]).groups(3).edge(Edge::Wrap),
        Case::new([1, 5, 6, 7], 9, [2, 2])
            .padding(Padding::Full)
            .edge(Edge::Fill),
        // Conjugated kernels (a real tap is its own conjugate).
        Case::new([1, 2, 6, 5], 3, [2, 3])
            .padding(pad(1, 1, 1, 1))
            .conjugate()
            .bias(),
        Case::new([1, 4, 6, 5], 4, [3, 3])
            .groups(4)
            .padding(Padding::Full)
            .conjugate(),
        // Several blocks of rows: 1400 outputs (the GEMM kernel takes 512
        // at a time); 132 × 68 = 8976 (the vectorized one takes 60 rows
        // of 68, the nearest to 4096 outputs), padded above and below
        // only, so that the middle block reads the input in place; rows
        // wider than a whole block of either.
        Case::new([1, 3, 40, 35], 8, [3, 3]).padding(pad(1, 1, 1, 1)).bias(),
        Case::new([1, 1, 130, 70], 1, [3, 3])
            .padding(pad(2, 2, 0, 0))
            .edge(Edge::Replicate),
        Case::new([2, 2, 41, 60], 2, [3, 3])
            .groups(2)
            .stride(2, 1)
            .padding(pad(3, 0, 0, 0)),
        Case::new([1, 2, 4, 602], 8, [3, 3]).bias(),
        Case::new([1, 1, 4, 4200], 1, [3, 3]).padding(pad(0, 0, 1, 1)),
        // Pointwise layers: whole blocks of 16 pixels (the GEMM kernel
        // reads the input in place), then not, then strided.
        Case::new([2, 4, 40, 32], 8, [1, 1]).groups(2).bias(),
        Case::new([1, 3, 5, 5], 8, [1, 1]),
        Case::new([1, 3, 9, 9], 8, [1, 1]).stride(2, 2),
        // A large kernel, taller than wide (the FFT's tiles then differ
        // along the two axes).
        Case::new([1, 2, 40, 37], 2, [15, 13])
            .groups(2)
            .padding(Padding::Same)
            .edge(Edge::Reflect)
            .bias(),
    ];
    // Strides 1 to 3 by dilations 1 and 2, and unequal ones.
    for stride in 1..=3 {
        for dilation in 1..=2 {
            cases.push(
                Case::new([1, 2, 11, 13], 3, [3, 3])
                    .stride(stride, stride)
                    .dilation(dilation, dilation)
                    .padding(pad(1, 1, 1, 1))
                    .edge(Edge::Fill),
            );
        }
    }
    cases.push(Case::new([1, 1, 12, 11], 1, [3, 2]).stride(3, 1).dilation(1, 2));
    // A left padding that a column stride of 3 carries past the right
    // edge: (8 - 3) / 3 + 1 = 2 outputs a row read 6 padded columns, fewer
    // than the input's 7, yet the first of them is padding.
    cases.push(Case::new([1, 1, 9, 7], 1, [3, 3]).stride(1, 3).padding(pad(0, 0, 1, 0)));
    cases.push(Case::new([1, 1, 11, 12], 1, [2, 3]).stride(1, 2).dilation(2, 1).bias());
    // Every boundary rule: even padding; lopsided padding, strided and
    // dilated; padding wider than the input, once and several times over.
    for edge in EDGES {
        cases.push(Case::new([1, 1, 6, 7], 1, [3, 3]).padding(pad(2, 2, 2, 2)).edge(edge));
        cases.push(
            Case::new([1, 2, 7, 6], 2, [3, 2])
                .stride(2, 3)
                .dilation(2, 1)
                .padding(pad(1, 3, 4, 0))
                .edge(edge)
                .bias(),
        );
        cases.push(Case::new([1, 1, 2, 3], 1, [3, 3]).padding(pad(5, 4, 5, 6)).edge(edge));
        cases.push(Case::new([1, 1, 1, 1], 1, [2, 3]).padding(pad(3, 3, 3, 3)).edge(edge));
    }
    // Every layout: grouped, depthwise and single-channel problems, padded.
    for layout in LAYOUTS {
        cases.push(
            Case::new([2, 4, 9, 10], 4, [3, 3])
                .groups(2)
                .padding(pad(2, 1, 2, 1))
                .edge(Edge::Symmetric)
                .bias()
                .layout(layout),
        );
        cases.push(
            Case::new([1, 3, 8, 20], 3, [3, 3])
                .groups(3)
                .padding(Padding::Same)
                .edge(Edge::Fill)
                .conjugate()
                .layout(layout),
        );
        cases.push(
            Case::new([1, 1, 7, 33], 1, [2, 3])
                .stride(2, 2)
                .padding(pad(1, 0, 1, 2))
                .edge(Edge::Wrap)
                .bias()
                .layout(layout),
        );
    }
    cases
}
