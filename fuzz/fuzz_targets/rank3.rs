//! The 3-D entry points (`correlate3d`, `convolve3d`, `conv3d`,
//! `conv3d_backward`, `conv_transpose3d`): Ok exactly when the u128 model
//! and the shape functions say so, with their shape, `OptionRank` for
//! options of another rank; for small problems every algorithm agrees with
//! `Algorithm::Direct` (f64 to a tolerance, i64 exactly) and a flat call
//! (one plane) equals the 2-D call on its plane bit for bit.
#![no_main]

use convolve_fuzz::rank3::{run, Input3d};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: Input3d| run(&case));
