//! Scratch buffers kept for reuse between blocks and between calls.

use std::sync::{Mutex, PoisonError};

use super::blocks::threads;
use crate::conv::element::Capabilities;
use crate::conv::problem::Problem;

/// Buffers kept for reuse: each block takes a set, works in it and gives
/// it back, so a call allocates at most one set per thread, and a
/// [`Conv2dPlan`](crate::Conv2dPlan), which keeps its pool, none after its
/// first call (see [`Pool::prepare`]).
pub(crate) struct Pool<S> {
    free: Mutex<Vec<S>>,
}

impl<S> Default for Pool<S> {
    fn default() -> Self {
        Pool {
            free: Mutex::new(Vec::new()),
        }
    }
}

impl<S: Default> Pool<S> {
    /// Makes sure the pool holds a set for every thread that can run one of
    /// `blocks` blocks at once, each set passed to `size` first, so that
    /// the blocks themselves allocate nothing.
    pub(crate) fn prepare(&self, blocks: usize, size: impl Fn(&mut S)) {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        let wanted = blocks.min(threads());
        if free.len() < wanted {
            free.resize_with(wanted, S::default);
        }
        free.iter_mut().for_each(size);
    }

    /// Runs `work` with a set of buffers from the pool (a new, empty set
    /// when none is free), then returns the set.
    pub(crate) fn with<R>(&self, work: impl FnOnce(&mut S) -> R) -> R {
        let taken = self.free.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut set = taken.unwrap_or_default();
        let result = work(&mut set);
        self.free.lock().unwrap_or_else(PoisonError::into_inner).push(set);
        result
    }
}

/// One block's scratch buffers in the direct and GEMM kernels.
#[derive(Debug)]
pub(crate) struct Scratch<A> {
    /// The padded input rows the block reads ([`TileShape`](super::tile::TileShape)).
    pub(crate) tile: Vec<A>,
    /// The GEMM kernel's patch matrix.
    pub(crate) patches: Vec<A>,
    /// One product or output row, before it is written out.
    pub(crate) product: Vec<A>,
    /// Where each row of the GEMM kernel's patch matrix starts, when it
    /// reads the rows in place.
    pub(crate) offsets: Vec<usize>,
}

impl<A> Default for Scratch<A> {
    fn default() -> Self {
        Scratch {
            tile: Vec::new(),
            patches: Vec::new(),
            product: Vec::new(),
            offsets: Vec::new(),
        }
    }
}

/// The lengths a [`Scratch`] needs, field by field.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ScratchLens {
    pub(crate) tile: usize,
    pub(crate) patches: usize,
    pub(crate) product: usize,
}

/// The pool of [`Scratch`] sets of the direct and GEMM kernels.
pub(crate) type Workspace<A> = Pool<Scratch<A>>;

impl<A: Clone + num_traits::Zero> Pool<Scratch<A>> {
    /// [`Pool::prepare`] with every set grown to `lens`.
    pub(crate) fn prepare_buffers(&self, blocks: usize, lens: ScratchLens) {
        self.prepare(blocks, |set| {
            prefix(&mut set.tile, lens.tile, lens.tile);
            prefix(&mut set.patches, lens.patches, lens.patches);
            prefix(&mut set.product, lens.product, lens.product);
        });
    }
}

/// The problem's workspace, or `local` (a new one) when it has none.
pub(crate) fn workspace<'w, A: Capabilities>(problem: &'w Problem<'_, A>, local: &'w Workspace<A>) -> &'w Workspace<A> {
    problem.workspace.unwrap_or(local)
}

/// The first `len` elements of `buffer`, which is grown with zeros to
/// `full` elements (the size of the largest block, so that a buffer grows
/// only the first time it is used) if it is shorter. Elements left from
/// earlier use are not cleared: callers overwrite every element they read.
pub(crate) fn prefix<T: Clone + num_traits::Zero>(buffer: &mut Vec<T>, len: usize, full: usize) -> &mut [T] {
    let full = full.max(len);
    if buffer.len() < full {
        buffer.resize(full, T::zero());
    }
    &mut buffer[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_grows_once_to_the_full_length_and_keeps_old_contents() {
        let mut buffer = vec![7.0f32; 2];
        assert_eq!(prefix(&mut buffer, 3, 5), [7.0, 7.0, 0.0]);
        assert_eq!(buffer.len(), 5);
        buffer[4] = 1.0;
        // Shorter requests neither shrink nor clear.
        assert_eq!(prefix(&mut buffer, 1, 2), [7.0]);
        assert_eq!(buffer, [7.0, 7.0, 0.0, 0.0, 1.0]);
        // A full length below `len` still gives `len` elements.
        assert_eq!(prefix(&mut buffer, 6, 0).len(), 6);
    }

    #[test]
    fn a_pool_hands_back_the_set_it_was_given() {
        let pool = Workspace::<f64>::default();
        pool.prepare_buffers(
            4,
            ScratchLens {
                tile: 3,
                patches: 0,
                product: 2,
            },
        );
        let lens = pool.with(|set| {
            set.tile[0] = 5.0;
            (set.tile.len(), set.patches.len(), set.product.len())
        });
        assert_eq!(lens, (3, 0, 2));
        // With one thread or more, at least one prepared set is pooled and
        // comes back with what the last user left in it.
        assert_eq!(pool.with(|set| set.tile[0]), 5.0);
    }

    #[test]
    fn an_empty_pool_makes_a_new_set() {
        let pool = Pool::<Vec<u8>>::default();
        assert!(pool.with(|set| set.is_empty()));
        pool.with(|set| set.push(1));
        assert_eq!(pool.with(|set| set.clone()), [1]);
    }
}
