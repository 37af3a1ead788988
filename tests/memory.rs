//! Working memory stays bounded on large images: peak resident memory
//! during a call, beyond the caller's input and output, measured by the
//! kernel (Linux only; this file is its own test process, so no other test
//! shares the figures). Where the kernel does not let the process reset its
//! peak, each test still checks the results, then fails.

#![cfg(target_os = "linux")]

mod common;

use common::padded_element;
use convolve::{correlate2d_algorithm, correlate2d_into, Algorithm, Boundary, ConvOptions, Padding};
use ndarray::Array2;

const MIB: usize = 1 << 20;

/// The peak counter is per process: the measurements take turns.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn status_kib(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs is readable");
    let line = status.lines().find(|l| l.starts_with(field)).expect("field present");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs `work`, and gives the peak resident memory reached meanwhile above
/// what was resident just before, in bytes, or why it cannot be measured:
/// the kernel must let the process reset its peak (`clear_refs`).
fn extra_peak(work: impl FnOnce()) -> Result<usize, String> {
    let reset = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kib("VmRSS:");
    work();
    let peak = status_kib("VmHWM:");
    reset.map_err(|e| format!("the peak resident memory cannot be reset (/proc/self/clear_refs: {e})"))?;
    Ok(peak.saturating_sub(before) * 1024)
}

/// Fails unless `extra` was measured and is below `limit` MiB.
fn assert_working_memory_below(extra: Result<usize, String>, limit: usize) {
    let extra = extra.unwrap_or_else(|why| panic!("working memory not measured: {why}"));
    assert!(extra < limit * MIB, "working memory {} MiB", extra / MIB);
}

fn filled<A: Copy>(rows: usize, cols: usize, value: impl Fn(usize, usize) -> A) -> Array2<A> {
    Array2::from_shape_fn((rows, cols), |(i, j)| value(i, j))
}

#[test]
fn a_16384_square_f32_image_with_a_5x5_kernel() {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let n = 16384;
    let x = filled(n, n, |i, j| ((i * 31 + j * 17) % 97) as f32 / 97.0);
    let k = filled(5, 5, |a, b| (a as f32 - b as f32) / 8.0);
    let mut out = Array2::<f32>::from_elem((n, n), f32::NAN);
    let opts = ConvOptions::new().padding(Padding::Same);
    let extra = extra_peak(|| correlate2d_into(&x, &k, &opts, &mut out).unwrap());
    // Spot checks against the definition (interior and corners): 'same'
    // pads a 5×5 kernel's windows by 2 on every side, with zeros.
    for &(i, j) in &[(0, 0), (8191, 4000), (n - 1, n - 1)] {
        let want: f64 = k
            .indexed_iter()
            .map(|((a, b), &tap)| {
                let v = padded_element(&x, [2, 2], &Boundary::Fill(0.0), (i + a, j + b));
                f64::from(v) * f64::from(tap)
            })
            .sum();
        assert!((f64::from(out[[i, j]]) - want).abs() < 1e-4, "at [{i}, {j}]");
    }
    assert_working_memory_below(extra, 64);
}

#[test]
fn a_2048_square_f64_image_with_a_31x31_kernel() {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let n = 2048;
    let x = filled(n, n, |i, j| ((i * 13 + j * 7) % 101) as f64 / 101.0);
    let k = filled(31, 31, |a, b| ((a * 3 + b) % 5) as f64 - 2.0);
    let mut out = Array2::<f64>::from_elem((n, n), f64::NAN);
    let opts = ConvOptions::new().padding(Padding::Same);
    let extra = extra_peak(|| correlate2d_into(&x, &k, &opts, &mut out).unwrap());
    assert!(out.iter().all(|v| v.is_finite()));
    assert_working_memory_below(extra, 100);
}

/// The separable path filters rows into a ring of a few lines per thread,
/// never into an intermediate of the whole plane (256 MiB here).
#[test]
fn an_8192_square_f32_image_with_a_9x9_gaussian() {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let n = 8192;
    let x = filled(n, n, |i, j| ((i * 31 + j * 17) % 97) as f32 / 97.0);
    let g = [1.0f32, 8.0, 28.0, 56.0, 70.0, 56.0, 28.0, 8.0, 1.0];
    let k = filled(9, 9, |a, b| g[a] * g[b] / 65536.0);
    let mut out = Array2::<f32>::from_elem((n, n), f32::NAN);
    let opts = ConvOptions::new()
        .padding(Padding::Same)
        .boundary(Boundary::Reflect)
        .algorithm(Algorithm::Separable);
    assert_eq!(correlate2d_algorithm(&x, &k, &opts).unwrap(), Algorithm::Separable);
    let extra = extra_peak(|| correlate2d_into(&x, &k, &opts, &mut out).unwrap());
    for &(i, j) in &[(0, 0), (4095, 17), (n - 1, n - 1)] {
        let want: f64 = k
            .indexed_iter()
            .map(|((a, b), &tap)| {
                let v = padded_element(&x, [4, 4], &Boundary::Reflect, (i + a, j + b));
                f64::from(v) * f64::from(tap)
            })
            .sum();
        assert!((f64::from(out[[i, j]]) - want).abs() < 1e-4, "at [{i}, {j}]");
    }
    assert_working_memory_below(extra, 16);
}
