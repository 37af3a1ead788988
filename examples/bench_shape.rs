//! Times `conv2d` on a layer shape of your own with every algorithm that
//! runs on it, and says which one `Algorithm::Auto` picks.
//!
//! ```text
//! cargo run --release --example bench_shape -- --input 8x64x56x56 --weight 64x64x3x3 --stride 1 --padding 1
//! cargo run --release --example bench_shape -- --help
//! ```
//!
//! Each algorithm is called once to warm up, then `--runs` times; the
//! table gives the median time and GFLOP/s, counting 2 FLOPs per
//! multiply-add of the direct definition (also for the FFT path, whose
//! figure is then an "effective" rate). The input and weights are seeded
//! random numbers, so the weights are never rank 1 and the separable path
//! never runs here. Progress goes to stderr, the table to stdout.

use std::env;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use convolve::shape::conv2d_output_shape;
use convolve::{conv2d, conv2d_algorithm, ConvOptions, Float, Padding};
use ndarray::Array4;

// The seeded generator and the list of algorithms of the crate's tests and
// benchmarks.
#[path = "../tests/common/forced.rs"]
mod forced;
#[path = "../tests/common/rng.rs"]
mod rng;

const USAGE: &str = "\
Times conv2d on one layer shape with every algorithm that runs on it.

usage: cargo run --release --example bench_shape -- [options]

options (defaults in brackets):
  --input NxCxHxW       input shape [1x64x56x56]
  --weight OxCgxKHxKW   weight shape, Cg = C / groups [64x64x3x3]
  --stride S            stride on both axes [1]
  --padding P           P zeros on every side, or 'same' or 'valid' [1]
  --dilation D          dilation on both axes [1]
  --groups G            channel groups [1]
  --threads N           threads [all cores, or RAYON_NUM_THREADS]
  --dtype f32|f64       element type [f32]
  --runs R              timed calls per algorithm, after one warm-up [5]
  -h, --help            this text";

/// The element type of the run.
#[derive(Clone, Copy, Debug)]
enum Dtype {
    F32,
    F64,
}

/// What the command line asks for.
struct Args {
    input: [usize; 4],
    weight: [usize; 4],
    options: ConvOptions,
    threads: Option<usize>,
    dtype: Dtype,
    runs: usize,
}

/// A shape written `AxBxCxD`.
fn parse_shape(flag: &str, text: &str) -> Result<[usize; 4], String> {
    let parts: Vec<_> = text.split('x').map(str::parse::<usize>).collect();
    match parts.as_slice() {
        [Ok(a), Ok(b), Ok(c), Ok(d)] => Ok([*a, *b, *c, *d]),
        _ => Err(format!(
            "{flag} takes four sizes joined by 'x', such as 8x64x56x56, not '{text}'"
        )),
    }
}

/// A count of at least 1.
fn parse_count(flag: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag} takes a whole number of at least 1, not '{text}'")),
    }
}

/// The arguments after the program's name; `Ok(None)` for `--help`.
fn parse(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        input: [1, 64, 56, 56],
        weight: [64, 64, 3, 3],
        options: ConvOptions::new().padding(Padding::uniform(1)),
        threads: None,
        dtype: Dtype::F32,
        runs: 5,
    };
    while let Some(flag) = argv.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = argv
            .next()
            .ok_or_else(|| format!("{flag} needs a value (see --help)"))?;
        let value = value.as_str();
        let options = args.options;
        match flag.as_str() {
            "--input" => args.input = parse_shape(&flag, value)?,
            "--weight" => args.weight = parse_shape(&flag, value)?,
            "--stride" => args.options = options.stride(parse_count(&flag, value)?),
            "--dilation" => args.options = options.dilation(parse_count(&flag, value)?),
            "--groups" => args.options = options.groups(parse_count(&flag, value)?),
            "--padding" => {
                let padding = match value {
                    "same" => Padding::Same,
                    "valid" => Padding::Valid,
                    _ => value
                        .parse()
                        .map(Padding::uniform)
                        .map_err(|_| format!("--padding takes a number of zeros, 'same' or 'valid', not '{value}'"))?,
                };
                args.options = options.padding(padding);
            }
            "--threads" => args.threads = Some(parse_count(&flag, value)?),
            "--dtype" => {
                args.dtype = match value {
                    "f32" => Dtype::F32,
                    "f64" => Dtype::F64,
                    _ => return Err(format!("--dtype takes f32 or f64, not '{value}'")),
                }
            }
            "--runs" => args.runs = parse_count(&flag, value)?,
            _ => return Err(format!("unknown option '{flag}' (see --help)")),
        }
    }
    Ok(Some(args))
}

/// The median of `times`.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    let mid = times.len() / 2;
    if times.len() % 2 == 1 {
        times[mid]
    } else {
        (times[mid - 1] + times[mid]) / 2
    }
}

/// Times every algorithm that runs on the problem and prints the table.
fn run<A: Float>(args: &Args) -> convolve::Result<()> {
    let output = conv2d_output_shape(args.input, args.weight, &args.options)?;
    let per_output = args.weight[1] * args.weight[2] * args.weight[3];
    let flops = 2.0 * (output.iter().product::<usize>() * per_output) as f64;
    let x: Array4<A> = rng::seeded(args.input, 1).mapv(|v| A::from(v).unwrap());
    let w: Array4<A> = rng::seeded(args.weight, 2).mapv(|v| A::from(v).unwrap());
    let auto = conv2d_algorithm::<A>(args.input, args.weight, &args.options)?;

    println!(
        "conv2d {:?}: input {:?}, weight {:?}, stride {}, padding {:?}, dilation {}, groups {} -> output {:?}",
        args.dtype,
        args.input,
        args.weight,
        args.options.stride.of_rank::<1>().expect("one stride for both axes")[0],
        args.options.padding,
        args.options
            .dilation
            .of_rank::<1>()
            .expect("one dilation for both axes")[0],
        args.options.groups,
        output,
    );
    println!(
        "{:.3} GFLOP per call, {} thread(s)",
        flops / 1e9,
        rayon::current_num_threads(),
    );
    println!("{:<12} {:>12} {:>10}", "algorithm", "median", "GFLOP/s");
    for algorithm in forced::ALGORITHMS {
        let options = args.options.algorithm(algorithm);
        let name = format!("{algorithm:?}");
        if !forced::applies(algorithm, args.input, &w, &args.options) {
            println!("{name:<12} not timed: does not apply to this problem");
            continue;
        }
        let mut times = Vec::with_capacity(args.runs);
        for call in 0..=args.runs {
            match call {
                0 => eprint!("\rtiming {algorithm:?}: warm-up call          "),
                _ => eprint!("\rtiming {algorithm:?}: call {call} of {}          ", args.runs),
            }
            let start = Instant::now();
            std::hint::black_box(conv2d(&x, &w, None, &options)?);
            if call > 0 {
                times.push(start.elapsed());
            }
        }
        eprint!("\r{:60}\r", "");
        let median = median(times);
        let gflops = flops / median.as_secs_f64() / 1e9;
        println!("{name:<12} {:>9.3} ms {gflops:>10.1}", median.as_secs_f64() * 1e3);
    }
    println!("Auto picks {auto:?} for this shape.");
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse(env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let pool = match args.threads {
        Some(n) => rayon::ThreadPoolBuilder::new().num_threads(n).build(),
        None => rayon::ThreadPoolBuilder::new().build(),
    }
    .expect("a rayon pool");
    let result = pool.install(|| match args.dtype {
        Dtype::F32 => run::<f32>(&args),
        Dtype::F64 => run::<f64>(&args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
