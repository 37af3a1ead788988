//! Working memory stays bounded on large images: peak resident memory
//! during a call, beyond the caller's input and output, measured by the
//! kernel (Linux only; this file is its own test process, so no other test
//! shares the figures).

#![cfg(target_os = "linux")]

use convolve::{correlate2d_into, ConvOptions, Padding};
use ndarray::Array2;

const MIB: usize = 1 << 20;

/// The peak counter is per process: the measurements take turns.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn status_kib(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs is readable");
    let line = status.lines().find(|l| l.starts_with(field)).expect("field present");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Peak resident memory reached while `work` runs, above what was resident
/// just before, in bytes; `None` where the kernel cannot reset the peak.
fn extra_peak(work: impl FnOnce()) -> Option<usize> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = status_kib("VmRSS:");
    work();
    let peak = status_kib("VmHWM:");
    Some(peak.saturating_sub(before) * 1024)
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
    let Some(extra) = extra_peak(|| correlate2d_into(&x, &k, &opts, &mut out).unwrap()) else {
        eprintln!("peak memory cannot be reset here; skipped the measurement");
        return;
    };
    assert!(extra < 64 * MIB, "working memory {} MiB", extra / MIB);
    // Spot checks against the definition (interior and corner).
    for &(i, j) in &[(0, 0), (8191, 4000), (n - 1, n - 1)] {
        let mut want = 0.0f64;
        for a in 0..5 {
            for b in 0..5 {
                let (r, c) = (i as isize + a as isize - 2, j as isize + b as isize - 2);
                if (0..n as isize).contains(&r) && (0..n as isize).contains(&c) {
                    want += f64::from(x[[r as usize, c as usize]]) * f64::from(k[[a, b]]);
                }
            }
        }
        assert!((f64::from(out[[i, j]]) - want).abs() < 1e-4, "at [{i}, {j}]");
    }
}

#[test]
fn a_2048_square_f64_image_with_a_31x31_kernel() {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let n = 2048;
    let x = filled(n, n, |i, j| ((i * 13 + j * 7) % 101) as f64 / 101.0);
    let k = filled(31, 31, |a, b| ((a * 3 + b) % 5) as f64 - 2.0);
    let mut out = Array2::<f64>::from_elem((n, n), f64::NAN);
    let opts = ConvOptions::new().padding(Padding::Same);
    let Some(extra) = extra_peak(|| correlate2d_into(&x, &k, &opts, &mut out).unwrap()) else {
        eprintln!("peak memory cannot be reset here; skipped the measurement");
        return;
    };
    assert!(extra < 100 * MIB, "working memory {} MiB", extra / MIB);
    assert!(out.iter().all(|v| v.is_finite()));
}
