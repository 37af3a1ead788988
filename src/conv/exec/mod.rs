//! How the kernels run: blocks of work in parallel ([`blocks`]), scratch
//! buffers kept between them ([`scratch`]), padded input tiles ([`tile`]),
//! and the matrix product ([`matmul`], the crate's one `unsafe` call).

pub(crate) mod blocks;
pub(crate) mod matmul;
pub(crate) mod scratch;
pub(crate) mod tile;
