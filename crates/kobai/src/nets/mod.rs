//! Networks, from the notebook's one-layer `simpleNet` to the book's `TwoLayerNet`.

mod fast_backprop;
mod simple_net;
mod two_layer_net;

pub use simple_net::{SimpleNet, simple_net_loss};
pub use two_layer_net::{Activation, Compute, TwoLayerNet};
