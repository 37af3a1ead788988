//! `correlate2d`: Ok exactly when the u128 model and the shape functions say so,
//! with their shape; for small problems every algorithm agrees with
//! `Algorithm::Direct` (f64 to a tolerance, i64 exactly).
#![no_main]

use convolve_fuzz::twod::{run, Input2d};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: Input2d| run(&case, false));
