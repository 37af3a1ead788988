//! Shared pieces of the `convolve` fuzz targets: input generators, a
//! `u128` model of which calls are valid, bounded-allocation operands and
//! the differential checks against `Algorithm::Direct`.

pub mod batched;
pub mod check;
pub mod gen;
pub mod model;
pub mod operand;
pub mod rank1;
pub mod rank3;
pub mod shapes;
pub mod twod;
