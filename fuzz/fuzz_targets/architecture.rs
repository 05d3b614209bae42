//! The network description that `.npz` files and checkpoints carry
//! (`affine(784,50) relu affine(50,10) | weight_decay=0.1`, `conv(…)`,
//! `pool(…)`): every text gives a network or an error — never a panic, an
//! abort or an allocation past what a network may hold — and a network's
//! own description reads back as the same network.

#![no_main]

use kobai::Params;
use kobai::nets::Network;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match Network::from_architecture(text) {
        Ok(net) => {
            let described = net.architecture().expect("a network describes itself");
            let again = Network::from_architecture(&described).expect("its own description reads");
            assert_eq!(again.architecture(), Some(described), "from {text:?}");
            assert_eq!(again.params().len(), net.params().len());
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
});
