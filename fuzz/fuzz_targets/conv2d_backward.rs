//! `conv2d_backward`: Ok exactly when the forward call is valid and the
//! upstream gradient has its output's shape; wrong gradient buffers are
//! errors; for small problems every algorithm's three gradients agree with
//! `Algorithm::Direct`'s.
#![no_main]

use convolve_fuzz::batched::{run_backward, InputBatched};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: InputBatched| run_backward(&case));
