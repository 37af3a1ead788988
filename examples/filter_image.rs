//! Image filtering as in an image-processing course: a Gaussian blur and
//! the Sobel gradient magnitude of a generated test picture, with `Same`
//! padding and mirrored (`Symmetric`) borders so that the edges of the
//! picture stay dark where the picture is. Writes three PNG files.
//!
//! Run with `cargo run --release --example filter_image [OUTPUT_DIR]`
//! (the current directory by default).

use std::path::PathBuf;

use convolve::{convolve2d, correlate2d, Boundary, ConvOptions, Padding};
use ndarray::{array, Array1, Array2, Zip};

const SIDE: usize = 256;

/// A test picture: a bright disc, a dark square and a soft gradient.
fn picture() -> Array2<f32> {
    Array2::from_shape_fn((SIDE, SIDE), |(i, j)| {
        let (y, x) = (i as f32 / SIDE as f32, j as f32 / SIDE as f32);
        let disc = ((x - 0.35).powi(2) + (y - 0.4).powi(2) < 0.04) as u8 as f32;
        let square = ((0.55..0.85).contains(&x) && (0.5..0.8).contains(&y)) as u8 as f32;
        (0.2 + 0.3 * x + 0.6 * disc - 0.15 * square).clamp(0.0, 1.0)
    })
}

/// The normalized 1-D Gaussian of standard deviation `sigma`, 3σ each side.
fn gaussian(sigma: f32) -> Array1<f32> {
    let half = (3.0 * sigma).ceil() as isize;
    let taps = Array1::from_iter((-half..=half).map(|t| (-((t * t) as f32) / (2.0 * sigma * sigma)).exp()));
    let total = taps.sum();
    taps / total
}

fn save(path: &PathBuf, image: &Array2<f32>) -> Result<(), Box<dyn std::error::Error>> {
    let peak = image.iter().fold(f32::MIN_POSITIVE, |m, &v| m.max(v));
    let pixels: Vec<u8> = image
        .iter()
        .map(|&v| (v / peak * 255.0).round().clamp(0.0, 255.0) as u8)
        .collect();
    let (h, w) = image.dim();
    image::GrayImage::from_raw(w as u32, h as u32, pixels)
        .ok_or("the buffer has one byte per pixel")?
        .save(path)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let x = picture();
    let mirrored = ConvOptions::new().padding(Padding::Same).boundary(Boundary::Symmetric);

    // A 2-D Gaussian is the outer product of two 1-D ones; the crate finds
    // that and runs it as two one-dimensional passes.
    let g = gaussian(2.0);
    let kernel = Array2::from_shape_fn((g.len(), g.len()), |(a, b)| g[a] * g[b]);
    let blurred = convolve2d(&x, &kernel, &mirrored)?;

    // Sobel: horizontal and vertical derivatives, then their magnitude.
    let sobel_x = array![[-1.0f32, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]];
    let gx = correlate2d(&blurred, &sobel_x, &mirrored)?;
    let gy = correlate2d(&blurred, &sobel_x.t(), &mirrored)?;
    let magnitude = Zip::from(&gx).and(&gy).map_collect(|&a, &b| a.hypot(b));

    // Mirrored borders add no false edge at the picture's border.
    let border = magnitude
        .row(0)
        .iter()
        .chain(magnitude.column(0))
        .fold(0.0f32, |m, &v| m.max(v));
    let inside = magnitude.iter().fold(0.0f32, |m, &v| m.max(v));
    println!("strongest edge {inside:.3}; strongest along the top and left borders {border:.3}");

    save(&dir.join("filter_image_input.png"), &x)?;
    save(&dir.join("filter_image_blurred.png"), &blurred)?;
    save(&dir.join("filter_image_edges.png"), &magnitude)?;
    Ok(())
}
