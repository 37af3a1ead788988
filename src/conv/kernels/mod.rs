//! The algorithms, one file per [`Algorithm`] variant, and [`execute`],
//! which asks the planner for a recipe and runs it.
//!
//! Adding an algorithm takes a file here, a rule in the planner, a line in
//! [`run`], and, if not every element type supports it, a hook in the
//! element `Capabilities`.

#[cfg(test)]
pub(crate) mod check;
pub(crate) mod direct;
pub(crate) mod fft;
pub(crate) mod gemm;
pub(crate) mod separable;
pub(crate) mod vectorized;
pub(crate) mod winograd;

use ndarray::ArrayViewMut4;

use super::element::Element;
use super::planner::{self, Recipe, Rule};
use super::problem::Problem;
use crate::options::Algorithm;

/// Runs `problem` with the recipe the planner gives for `requested`.
pub(crate) fn execute<A: Element>(problem: &Problem<'_, A>, requested: Algorithm, out: ArrayViewMut4<'_, A>) {
    let (recipe, factors) = choose(problem, requested);
    run(problem, recipe, factors.as_ref(), out);
}

/// The planner's recipe for `requested` on `problem` (whose data it reads
/// only where the choice depends on them), and the separable factors of
/// its kernels when the recipe runs [`Algorithm::Separable`].
pub(crate) fn choose<A: Element>(
    problem: &Problem<'_, A>,
    requested: Algorithm,
) -> (Recipe, Option<separable::Factors<A>>) {
    let recipe = planner::choose::<A>(
        requested,
        &problem.shapes(),
        || problem.tame(),
        || A::separable_factors(problem).is_some(),
    );
    let factors = match recipe.algorithm {
        Algorithm::Separable => A::separable_factors(problem),
        _ => None,
    };
    // A forced `Separable` on kernels without factors runs `Vectorized`:
    // the recipe says so, so that whoever reports it names what runs.
    let recipe = match (recipe.algorithm, &factors) {
        (Algorithm::Separable, None) => Recipe {
            algorithm: Algorithm::Vectorized,
            rule: Rule::Unsupported,
        },
        _ => recipe,
    };
    (recipe, factors)
}

/// Runs `problem` as `recipe` says; `factors` are the separable factors of
/// its kernels, which [`choose`] gives with every [`Algorithm::Separable`]
/// recipe (a plan that asks the planner again keeps them).
pub(crate) fn run<A: Element>(
    problem: &Problem<'_, A>,
    recipe: Recipe,
    factors: Option<&separable::Factors<A>>,
    out: ArrayViewMut4<'_, A>,
) {
    match recipe.algorithm {
        Algorithm::Separable => match factors {
            Some(f) => A::run_separable(problem, f, out),
            None => vectorized::run(problem, out),
        },
        Algorithm::Vectorized => vectorized::run(problem, out),
        Algorithm::Gemm => gemm::run(problem, out),
        Algorithm::Fft => A::run_fft(problem, problem.prepared.and_then(|p| p.spectra.as_ref()), out),
        Algorithm::Winograd => A::run_winograd(problem, problem.prepared.and_then(|p| p.winograd.as_ref()), out),
        Algorithm::Auto | Algorithm::Direct => direct::run(problem, out),
    }
}
