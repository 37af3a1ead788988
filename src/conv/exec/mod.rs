//! How the kernels run: blocks of work in parallel ([`blocks`]), scratch
//! buffers kept between them ([`scratch`]), padded input tiles ([`tile`]),
//! and the matrix products: the crate's own register-blocked kernel for
//! real floating point ([`microkernel`]) and the `gemm` crate's for the
//! rest ([`matmul`], the crate's one `unsafe` call).

pub(crate) mod blocks;
pub(crate) mod matmul;
pub(crate) mod microkernel;
pub(crate) mod scratch;
pub(crate) mod tile;
