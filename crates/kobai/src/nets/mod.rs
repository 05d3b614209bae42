//! Networks, from the notebook's one-layer `simpleNet` up.

mod simple_net;

pub use simple_net::{SimpleNet, simple_net_loss};
