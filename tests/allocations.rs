//! A `Conv2dPlan` allocates nothing once warm: every allocation made by
//! the threads that run its calls is counted by a global allocator that
//! wraps the system's. The tests of this file take turns (a lock), since
//! the count is global.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

mod common;

use common::seeded;
use convolve::{conv2d_backward, Algorithm, Boundary, Conv2dGradsMut, Conv2dPlan, ConvOptions, Padding};
use ndarray::{Array1, Array4, Ix4, ShapeBuilder};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);
/// Held by each test while it runs.
static TURN: Mutex<()> = Mutex::new(());

thread_local! {
    /// Set on the threads of the pools the tests run the plans on.
    static WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Whether an allocation made now, on this thread, is counted: the test
/// harness's own threads are left out.
fn counted() -> bool {
    COUNTING.load(Ordering::SeqCst) && WORKER.with(Cell::get)
}

// SAFETY: every method forwards to `System` unchanged; the counters are
// atomics, which allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counted() {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
            LARGEST.fetch_max(layout.size(), Ordering::SeqCst);
        }
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counted() {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
            LARGEST.fetch_max(new_size, Ordering::SeqCst);
        }
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The number of allocations `work` makes, and the largest of them in
/// bytes.
fn allocations(work: impl FnOnce()) -> (usize, usize) {
    ALLOCATIONS.store(0, Ordering::SeqCst);
    LARGEST.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    work();
    COUNTING.store(false, Ordering::SeqCst);
    (ALLOCATIONS.load(Ordering::SeqCst), LARGEST.load(Ordering::SeqCst))
}

/// The common seeded values, in the plans' element type.
fn seeded_f32(shape: impl ShapeBuilder<Dim = Ix4>, seed: u64) -> Array4<f32> {
    seeded(shape, seed).mapv(|v| v as f32)
}

/// A pool of `threads` threads whose allocations are counted.
fn counted_pool(threads: usize) -> rayon::ThreadPool {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .start_handler(|_| WORKER.with(|w| w.set(true)))
        .build()
        .unwrap();
    // Every thread started and has looked for work (what a thread
    // allocates for itself is not the plan's doing).
    for _ in 0..3 {
        pool.broadcast(|_| pool.join(|| (), || ()));
    }
    pool
}

/// Runs `plan` on every thread of `pool` to warm it (each thread runs at
/// least one block of its own call, of the planned batch size), then
/// counts the allocations of five more calls on a batch of `batch` images;
/// checks the result against the reference loop.
fn warm_allocations(
    plan: &Conv2dPlan<f32>,
    weight: &Array4<f32>,
    bias: &Array1<f32>,
    options: &ConvOptions,
    pool: &rayon::ThreadPool,
    batch: usize,
) -> (usize, usize) {
    let planned = seeded_f32(plan.input_shape(), 8);
    pool.broadcast(|_| plan.run(&planned).unwrap());
    let [_, c, h, w] = plan.input_shape();
    let x = seeded_f32([batch, c, h, w], 9);
    let [_, o, ho, wo] = plan.output_shape();
    let mut out = Array4::zeros([batch, o, ho, wo]);
    // The fewest of three rounds: an allocation of the crate's own recurs
    // in every round, while the pool's workers, under load from other
    // processes, now and then grow a queue of their own (one allocation
    // seen in one round of one run on a loaded machine).
    let counted = (0..3)
        .map(|_| {
            pool.install(|| {
                allocations(|| {
                    for _ in 0..5 {
                        plan.run_into(&x, &mut out).unwrap();
                    }
                })
            })
        })
        .min()
        .expect("three rounds");
    let expected = convolve::conv2d(&x, weight, Some(bias), &options.algorithm(Algorithm::Direct)).unwrap();
    let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(out.iter().zip(&expected).all(|(a, b)| (a - b).abs() <= 1e-5 * scale));
    counted
}

/// A plan of every algorithm but the matrix product (whose `gemm` crate
/// allocates), with its weights and options.
fn plans_without_gemm() -> Vec<([usize; 4], Array4<f32>, ConvOptions)> {
    let same = ConvOptions::new().padding(Padding::Same);
    // Rank 1: (a + 1) · (b + 2) · (o + 1).
    let separable = Array4::from_shape_fn((4, 1, 5, 5), |(o, _, a, b)| ((a + 1) * (b + 2) * (o + 1)) as f32);
    vec![
        (
            [2, 3, 20, 24],
            seeded_f32((4, 3, 3, 3), 1),
            same.algorithm(Algorithm::Direct),
        ),
        (
            [2, 3, 40, 72],
            seeded_f32((4, 3, 3, 3), 2),
            same.algorithm(Algorithm::Vectorized),
        ),
        (
            [2, 4, 41, 70],
            seeded_f32((4, 2, 3, 3), 3),
            same.stride(2)
                .groups(2)
                .boundary(Boundary::Reflect)
                .algorithm(Algorithm::Vectorized),
        ),
        (
            [3, 2, 100, 90],
            seeded_f32((3, 2, 15, 15), 4),
            same.algorithm(Algorithm::Fft),
        ),
        (
            [2, 4, 60, 50],
            separable,
            same.groups(4).algorithm(Algorithm::Separable),
        ),
    ]
}

#[test]
fn a_warm_plan_allocates_nothing() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (one, two) = (counted_pool(1), counted_pool(2));
    for (input_shape, weight, options) in plans_without_gemm() {
        let bias = Array1::from_elem(weight.shape()[0], 0.25);
        let plan = Conv2dPlan::new(input_shape, &weight, Some(&bias), &options).unwrap();
        assert_eq!(plan.algorithm(), options.algorithm);
        for (threads, pool) in [(1, &one), (2, &two)] {
            let (count, _) = warm_allocations(&plan, &weight, &bias, &options, pool, input_shape[0]);
            assert_eq!(
                count, 0,
                "{:?}, {threads} threads: {count} allocations in 5 warm calls",
                options.algorithm
            );
        }
    }
}

/// A last batch smaller than the planned one runs in the buffers the
/// planned batch warmed.
#[test]
fn a_warm_plan_allocates_nothing_for_a_smaller_batch() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (one, two) = (counted_pool(1), counted_pool(2));
    for (input_shape, weight, options) in plans_without_gemm() {
        let bias = Array1::from_elem(weight.shape()[0], 0.25);
        let plan = Conv2dPlan::new(input_shape, &weight, Some(&bias), &options).unwrap();
        for (threads, pool) in [(1, &one), (2, &two)] {
            let (count, _) = warm_allocations(&plan, &weight, &bias, &options, pool, 1);
            assert_eq!(
                count, 0,
                "{:?}, {threads} threads: {count} allocations in 5 warm calls on one image",
                options.algorithm
            );
        }
    }
}

/// New weights for a multi-channel layer are copied into the plan's own
/// array: an optimizer step allocates nothing.
#[test]
fn set_weight_on_a_gemm_plan_allocates_nothing() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let pool = counted_pool(1);
    let options = ConvOptions::new().padding(Padding::Same).algorithm(Algorithm::Gemm);
    let mut plan = Conv2dPlan::new([2, 16, 30, 30], &seeded_f32((32, 16, 3, 3), 10), None, &options).unwrap();
    assert_eq!(plan.algorithm(), Algorithm::Gemm);
    let x = seeded_f32((2, 16, 30, 30), 11);
    plan.run(&x).unwrap();
    // Standard layout, and column-major, which the plan must reorder.
    let stepped = seeded_f32((32, 16, 3, 3), 12);
    let mut column_major = Array4::zeros((32, 16, 3, 3).f());
    column_major.assign(&seeded_f32((32, 16, 3, 3), 13));
    for weight in [&stepped, &column_major] {
        let (count, _) = pool.install(|| allocations(|| plan.set_weight(weight).unwrap()));
        assert_eq!(count, 0, "set_weight made {count} allocations");
        assert_eq!(plan.weight(), weight);
        let want = convolve::conv2d(&x, weight, None, &options).unwrap();
        assert_eq!(plan.run(&x).unwrap(), want);
    }
}

/// The GEMM path reuses all of its own buffers too; what may allocate is the
/// `gemm` crate, a few bytes of bookkeeping per matrix product.
#[test]
fn a_warm_gemm_plan_allocates_only_the_gemm_crates_bookkeeping() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (one, two) = (counted_pool(1), counted_pool(2));
    let options = ConvOptions::new().padding(Padding::Same).algorithm(Algorithm::Gemm);
    for (input_shape, weight) in [
        ([2, 16, 30, 30], seeded_f32((32, 16, 3, 3), 5)),
        ([1, 8, 27, 33], seeded_f32((128, 8, 3, 3), 6)),
        ([2, 32, 16, 24], seeded_f32((16, 32, 1, 1), 7)),
    ] {
        let bias = Array1::from_elem(weight.shape()[0], 0.25);
        let plan = Conv2dPlan::new(input_shape, &weight, Some(&bias), &options).unwrap();
        assert_eq!(plan.algorithm(), Algorithm::Gemm);
        for (threads, pool) in [(1, &one), (2, &two)] {
            let (_, largest) = warm_allocations(&plan, &weight, &bias, &options, pool, input_shape[0]);
            assert!(largest <= 256, "{threads} threads: an allocation of {largest} bytes");
        }
    }
}

/// Warms `plan`'s backward pass and transposed convolution on every thread
/// of `pool` (planned batch size), then counts the allocations of five
/// more calls of each on a batch of `batch` images; checks the results
/// against the reference loops.
fn warm_backward_allocations(
    plan: &Conv2dPlan<f32>,
    weight: &Array4<f32>,
    options: &ConvOptions,
    pool: &rayon::ThreadPool,
    batch: usize,
) -> (usize, usize) {
    let [_, c, h, w] = plan.input_shape();
    let [_, o, ho, wo] = plan.output_shape();
    let warm = |n: usize| {
        let x = seeded_f32([n, c, h, w], 14);
        let g = seeded_f32([n, o, ho, wo], 15);
        let (mut dx, mut dw, mut db) = (
            Array4::zeros(x.raw_dim()),
            Array4::zeros(weight.raw_dim()),
            Array1::zeros(o),
        );
        let grads = Conv2dGradsMut {
            input: Some(dx.view_mut()),
            weight: Some(dw.view_mut()),
            bias: Some(db.view_mut()),
        };
        plan.backward_into(&x, &g, grads).unwrap();
        plan.transpose_into(&g, &mut dx).unwrap();
    };
    pool.broadcast(|_| warm(plan.input_shape()[0]));
    let x = seeded_f32([batch, c, h, w], 16);
    let g = seeded_f32([batch, o, ho, wo], 17);
    let (mut dx, mut dw, mut db) = (
        Array4::zeros(x.raw_dim()),
        Array4::zeros(weight.raw_dim()),
        Array1::zeros(o),
    );
    let mut transposed = Array4::zeros(x.raw_dim());
    let counted = pool.install(|| {
        allocations(|| {
            for _ in 0..5 {
                let grads = Conv2dGradsMut {
                    input: Some(dx.view_mut()),
                    weight: Some(dw.view_mut()),
                    bias: Some(db.view_mut()),
                };
                plan.backward_into(&x, &g, grads).unwrap();
                plan.transpose_into(&g, &mut transposed).unwrap();
            }
        })
    });
    let want = conv2d_backward(&x, weight, &g, &options.algorithm(Algorithm::Direct)).unwrap();
    for (got, want) in [(&dx, &want.input), (&transposed, &want.input), (&dw, &want.weight)] {
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(got.iter().zip(want).all(|(a, b)| (a - b).abs() <= 1e-4 * scale));
    }
    assert!(db
        .iter()
        .zip(&want.bias)
        .all(|(a, b)| (a - b).abs() <= 1e-4 * b.abs().max(1.0)));
    counted
}

/// The backward pass and the transposed convolution of a warm plan reuse
/// the plan's buffers: where no matrix product runs they allocate nothing,
/// and otherwise only the `gemm` crate's bookkeeping. (The FFT and
/// separable paths prepare the transposed problem's kernels on each call.)
#[test]
fn a_warm_plans_backward_pass_allocates_nothing_of_its_own() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (one, two) = (counted_pool(1), counted_pool(2));
    let same = ConvOptions::new().padding(Padding::Same);
    // (input shape, weight, options, whether a matrix product runs)
    let cases = [
        (
            [2, 3, 20, 24],
            seeded_f32((4, 3, 3, 3), 1),
            same.algorithm(Algorithm::Direct),
            false,
        ),
        (
            [2, 3, 40, 72],
            seeded_f32((4, 3, 3, 3), 2),
            same.algorithm(Algorithm::Vectorized),
            false,
        ),
        (
            [2, 4, 30, 28],
            seeded_f32((4, 2, 3, 3), 3),
            same.groups(2)
                .boundary(Boundary::Reflect)
                .algorithm(Algorithm::Vectorized),
            false,
        ),
        (
            [2, 4, 41, 70],
            seeded_f32((4, 2, 3, 3), 3),
            same.stride(2).groups(2).boundary(Boundary::Reflect),
            true,
        ),
        (
            [2, 16, 30, 30],
            seeded_f32((32, 16, 3, 3), 5),
            same.algorithm(Algorithm::Gemm),
            true,
        ),
        (
            [2, 3, 45, 45],
            seeded_f32((16, 3, 7, 7), 6),
            ConvOptions::new().stride(4).padding(Padding::Explicit {
                top: 1,
                bottom: 2,
                left: 2,
                right: 1,
            }),
            true,
        ),
    ];
    for (input_shape, weight, options, products) in cases {
        let plan = Conv2dPlan::new(input_shape, &weight, None, &options).unwrap();
        for (threads, pool) in [(1, &one), (2, &two)] {
            for batch in [input_shape[0], 1] {
                let (count, largest) = warm_backward_allocations(&plan, &weight, &options, pool, batch);
                let what = format!(
                    "{options:?}, {threads} threads, batch {batch}: {count} allocations, the largest {largest} bytes"
                );
                if products {
                    assert!(largest <= 256, "{what}");
                } else {
                    assert_eq!(count, 0, "{what}");
                }
            }
        }
    }
}
