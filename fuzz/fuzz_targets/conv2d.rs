//! `conv2d`: Ok exactly when the u128 model and `conv2d_output_shape` say
//! so, with their shape; for small problems every algorithm agrees with
//! `Algorithm::Direct` (f64 to a tolerance, i64 exactly).
#![no_main]

use convolve_fuzz::batched::{run_conv2d, InputBatched};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: InputBatched| run_conv2d(&case));
