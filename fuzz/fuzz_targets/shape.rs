//! The `shape` module (and the `*_algorithm` planners) on any usize
//! inputs: no panic, and every value equal to the formula evaluated in
//! u128, so that nothing returned can have wrapped.
#![no_main]

use convolve_fuzz::shapes::{run, ShapeInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: ShapeInput| run(&case));
