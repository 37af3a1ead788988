//! Helpers shared by the integration tests: proptest strategies,
//! independent oracles, storage layouts and the checks that compare
//! results.
//!
//! The oracles are written from the definitions in the crate docs and
//! `numpy.pad`, not from the crate's code, so that a failing test points
//! at the crate rather than at a mistake the two share.

// Each test binary compiles this module for itself and uses only part of it.
#![allow(dead_code)]

pub mod checks;
pub mod layouts;
pub mod op;
pub mod oracles;
pub mod scalar;
pub mod strategies;

pub use checks::*;
pub use layouts::*;
pub use op::*;
pub use oracles::*;
pub use scalar::Scalar;
pub use strategies::*;
