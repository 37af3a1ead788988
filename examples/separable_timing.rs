//! Times `Algorithm::Separable` against `Algorithm::Vectorized` and
//! `Algorithm::Fft` on rank-1 kernels, the figures behind the separable
//! rule of `src/conv/planner.rs` and the table in `docs/algorithms.md`.
//!
//! ```text
//! cargo run --release --example separable_timing [side] [threads]
//! ```
//!
//! Every algorithm runs in turn within each repetition (so that a busy
//! machine slows them alike), on a `side`² image (default 1024) with
//! `Same` padding, in a rayon pool of `threads` threads (default 1). Each
//! line gives medians in µs: `_into` over 200 calls (40 for kernels past
//! 13×13), the allocating `correlate2d` over 50 (20), and what `Auto`
//! runs. Compare ratios within one run only.

use std::time::Instant;

use convolve::{correlate2d, correlate2d_algorithm, correlate2d_into, Algorithm, ConvOptions, Element, Padding};
use ndarray::Array2;

/// A Sobel-like 3×3 kernel (`[1, 2, 1]ᵀ [1, 0, -1]`) or a Gaussian of
/// `side` taps with σ = side / 6.
fn kernel<A: Element + num_traits::Float>(side: usize) -> Array2<A> {
    let cast = |v: f64| A::from(v).expect("a small value");
    if side == 3 {
        let (u, v) = ([1.0, 2.0, 1.0], [1.0, 0.0, -1.0]);
        return Array2::from_shape_fn((3, 3), |(a, b)| cast(u[a] * v[b]));
    }
    let sigma = side as f64 / 6.0;
    let g: Vec<f64> = (0..side)
        .map(|i| (-((i as f64 - (side - 1) as f64 / 2.0).powi(2)) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = g.iter().sum();
    Array2::from_shape_fn((side, side), |(a, b)| cast(g[a] * g[b] / (total * total)))
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

fn micros(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e6
}

fn table<A: Element + num_traits::Float>(name: &str, side: usize, sides: &[usize]) {
    let x = Array2::from_shape_fn((side, side), |(i, j)| {
        A::from(((i * 31 + j * 17) % 97) as f64 / 97.0).unwrap()
    });
    let same = ConvOptions::new().padding(Padding::Same);
    let algorithms = [Algorithm::Separable, Algorithm::Vectorized, Algorithm::Fft];
    println!("{name} {side}²: kernel | into: separable vectorized fft | allocating: separable vectorized fft | Auto");
    for &k_side in sides {
        let k = kernel::<A>(k_side);
        let (into_reps, alloc_reps) = if k_side > 13 { (40, 20) } else { (200, 50) };
        let mut out = Array2::from_elem((side, side), A::nan());
        let mut into = vec![Vec::new(); algorithms.len()];
        let mut alloc = vec![Vec::new(); algorithms.len()];
        for rep in 0..into_reps {
            for (t, &algorithm) in into.iter_mut().zip(&algorithms) {
                let opts = same.algorithm(algorithm);
                let start = Instant::now();
                correlate2d_into(&x, &k, &opts, &mut out).unwrap();
                t.push(micros(start));
            }
            if rep < alloc_reps {
                for (t, &algorithm) in alloc.iter_mut().zip(&algorithms) {
                    let opts = same.algorithm(algorithm);
                    let start = Instant::now();
                    let y = correlate2d(&x, &k, &opts).unwrap();
                    t.push(micros(start));
                    drop(y);
                }
            }
        }
        let into: Vec<f64> = into.into_iter().map(median).collect();
        let alloc: Vec<f64> = alloc.into_iter().map(median).collect();
        let auto = correlate2d_algorithm(&x, &k, &same).unwrap();
        println!(
            "{k_side}×{k_side} | {:.0} {:.0} {:.0} | {:.0} {:.0} {:.0} | {auto:?}",
            into[0], into[1], into[2], alloc[0], alloc[1], alloc[2]
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let side = args.next().unwrap_or(1024);
    let threads = args.next().unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let sides = [3, 4, 5, 7, 9, 13, 17, 31, 63];
    pool.install(|| {
        table::<f32>("f32", side, &sides);
        table::<f64>("f64", side, &sides);
    });
}
