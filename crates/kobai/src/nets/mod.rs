//! Networks, from the notebook's one-layer `simpleNet` to the book's
//! `TwoLayerNet` and networks of any shape ([`Network`], built by
//! [`MultiLayerNet`] or from your own [`Layer`](crate::layers::Layer)s).

mod fast_backprop;
mod fast_conv;
mod fast_network;
mod multi_layer_net;
mod network;
mod network_stages;
mod simple_conv_net;
mod simple_net;
mod spec;
mod two_layer_net;
mod two_layer_stages;

pub use multi_layer_net::{Init, MultiLayerNet};
pub use network::{MAX_ARCHITECTURE_LAYERS, MAX_ARCHITECTURE_VALUES, Network};
pub use simple_conv_net::SimpleConvNet;
pub use simple_net::{SimpleNet, simple_net_loss};
pub use spec::LayerSpec;
pub use two_layer_net::{Activation, Compute, TwoLayerNet};
