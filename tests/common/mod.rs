//! Helpers shared by the integration tests: one seeded generator, the
//! golden-fixture loader, proptest strategies, independent oracles, storage
//! layouts and the checks that compare results.
//!
//! The oracles are written from the definitions in the crate docs and
//! `numpy.pad`, not from the crate's code, so that a failing test points
//! at the crate rather than at a mistake the two share.

// Each test binary compiles this module for itself and uses only part of it.
#![allow(dead_code)]

pub mod checks;
pub mod golden;
pub mod layouts;
pub mod op;
pub mod oracles;
pub mod rng;
pub mod scalar;
pub mod strategies;

// Flat names for the property tests; the other test binaries use fewer.
#[allow(unused_imports)]
pub use self::{checks::*, layouts::*, op::*, oracles::*, rng::seeded, scalar::Scalar, strategies::*};
