//! The 1-D entry points (`correlate1d`, `convolve1d`, `conv1d`,
//! `conv1d_backward`, `conv_transpose1d`): Ok exactly when the u128 model
//! and the shape functions say so, with their shape, `OptionRank` for
//! options of another rank; for small problems each result equals the
//! one-row 2-D call bit for bit and every algorithm agrees with
//! `Algorithm::Direct` (f64 to a tolerance, i64 exactly).
#![no_main]

use convolve_fuzz::rank1::{run, Input1d};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: Input1d| run(&case));
