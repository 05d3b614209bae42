//! An `.npz` of any network, loaded as `kobai evaluate` loads it: the
//! architecture member builds the network, then the weights load into it.
//! Every input gives a network with finite weights or an error that leaves
//! the network as it was built — never a panic, an abort or an allocation
//! past what a network may hold.

#![no_main]

use std::io::Cursor;

use kobai::Params;
use kobai::model::{load_npz_from_reader, read_architecture_from_reader};
use kobai::nets::Network;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(Some(text)) = read_architecture_from_reader(Cursor::new(bytes)) else {
        return;
    };
    let Ok(built) = Network::from_architecture(&text) else {
        return;
    };
    let mut net = built.clone();
    match load_npz_from_reader(&mut net, Cursor::new(bytes)) {
        Ok(()) => {
            for (name, param) in net.params() {
                assert!(param.iter().all(|v| v.is_finite()), "{name} not finite");
            }
        }
        Err(err) => {
            assert!(!err.to_string().is_empty());
            let same = net
                .params()
                .iter()
                .zip(built.params())
                .all(|((_, a), (_, b))| a == &b);
            assert!(same, "a failed load changed the network: {err}");
        }
    }
});
