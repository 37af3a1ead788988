//! `conv_transpose2d`: Ok exactly when the u128 model and
//! `conv_transpose2d_output_shape` say so, with their shape; for small
//! problems every algorithm agrees with `Algorithm::Direct`.
#![no_main]

use convolve_fuzz::batched::{run_transpose, InputBatched};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: InputBatched| run_transpose(&case));
