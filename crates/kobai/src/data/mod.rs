//! Data: MNIST-format files, mini-batches, and a built-in spiral — the book's
//! `dataset/mnist.py`, with every file checked before it is trusted.
//!
//! ## A short guide
//!
//! **Load MNIST** (or Fashion-MNIST) from a folder holding the four files
//! `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`
//! and `t10k-labels-idx1-ubyte`, each raw or `.gz`, with [`load_mnist_dir`]. It
//! returns `(train, test)` [`Dataset`]s whose rows are the flattened images
//! scaled to `[0, 1]` — the book's `load_mnist(normalize=True, flatten=True)`,
//! held as the files' bytes (an eighth of the memory of `f64`) and converted
//! as batches are taken; [`Dataset::one_hot_labels`] is its
//! `one_hot_label=True`. kobai downloads nothing: fetch the files once, by any
//! means, and point it at the folder.
//!
//! **Images for convolutions**: the datasets keep the files' image shape,
//! [`Dataset::image_shape`] (`(1, 28, 28)` for MNIST: channels, height,
//! width), and [`Dataset::batch_images`] gives a batch as the book's
//! `(N, C, H, W)` array, `load_mnist(flatten=False)`. Data built from rows
//! ([`Dataset::new`], [`Dataset::from_bytes`]) gets one from
//! [`Dataset::with_image_shape`].
//!
//! **No download at hand?** [`spiral`] generates the three-armed spiral from a
//! seed: two features, three classes, a held-out test split.
//!
//! **Train in mini-batches** with [`Batches`]: either the book's
//! `np.random.choice(train_size, batch_size)` ([`Batches::with_replacement`]) or
//! a fresh shuffle every epoch ([`Batches::shuffled`]). Feed each batch of
//! indices to [`Dataset::batch`].
//!
//! **Other IDX files** are read by [`read_idx_u8`] (or, from memory,
//! [`read_idx_u8_from_bytes`]) and written (atomically, raw
//! or `.gz`) by [`write_idx_u8`].
//!
//! | book (`dataset/mnist.py`, ch. 4)                   | kobai                                         |
//! |----------------------------------------------------|-----------------------------------------------|
//! | `(x_train, t_train), (x_test, t_test) = load_mnist()` | `let (train, test) = load_mnist_dir(dir)?;` |
//! | `x_train.shape[0]`                                 | `train.len()`                                  |
//! | `np.random.choice(train_size, batch_size)`         | `batches.next_batch()`                         |
//! | `x_train[batch_mask], t_train[batch_mask]`         | `train.batch(&mask)?`                          |
//! | the same, of `load_mnist(flatten=False)` (ch. 7)   | `train.batch_images(&mask)?`                   |
//!
//! ```
//! use kobai::data::{spiral, Batches};
//!
//! let (train, test) = spiral(100, 0.2, 0)?;
//! let mut batches = Batches::shuffled(train.len(), 32, 0)?;
//! for mask in batches.by_ref().take(3) {
//!     let (x, t) = train.batch(&mask)?;
//!     assert_eq!((x.ncols(), x.nrows()), (2, t.len()));
//! }
//! assert_eq!(test.len(), 60);
//! # Ok::<(), kobai::KobaiError>(())
//! ```
//!
//! Bad files are errors, never panics or huge allocations: a file's header is
//! checked against its actual length before its data is read, and every error
//! names the file.

mod batches;
#[cfg(feature = "npz")]
mod batches_state;
mod dataset;
mod features;
mod idx;
mod planar;
mod spiral;

pub use batches::{Batches, Sampling, permutation};
#[cfg(feature = "npz")]
pub(crate) use batches_state::BatchesState;
pub use dataset::{
    Dataset, ImageShape, MNIST_CLASSES, MNIST_FILES, load_mnist_dir, load_mnist_train,
};
pub use idx::{IDX_MAX_DIMS, IdxArray, read_idx_u8, read_idx_u8_from_bytes, write_idx_u8};
pub use planar::{PLANAR_MAX_POINTS, Planar, planar_points};
pub use spiral::{SPIRAL_CLASSES, SPIRAL_NOISE, spiral, spiral_points};
