//! The `.npz` weights reader, into a 4-3-2 and a 784-50-10 `TwoLayerNet`:
//! every input loads or is an error that leaves the model as it was — never a
//! panic, an abort or an allocation the input did not pay for.

#![no_main]

use std::io::Cursor;
use std::sync::OnceLock;

use kobai::model::load_npz_from_reader;
use kobai::{Params, TwoLayerNet};
use libfuzzer_sys::fuzz_target;

/// The two nets, built once (initialising 784-50-10 costs more than a run).
fn nets() -> &'static (TwoLayerNet, TwoLayerNet) {
    static NETS: OnceLock<(TwoLayerNet, TwoLayerNet)> = OnceLock::new();
    NETS.get_or_init(|| {
        (
            TwoLayerNet::new(4, 3, 2, 0.1, 0).expect("valid sizes"),
            TwoLayerNet::new(784, 50, 10, 0.01, 0).expect("valid sizes"),
        )
    })
}

fuzz_target!(|bytes: &[u8]| {
    let (small, mnist) = nets();
    check(small, bytes);
    check(mnist, bytes);
});

fn check(net: &TwoLayerNet, bytes: &[u8]) {
    let mut model = net.clone();
    match load_npz_from_reader(&mut model, Cursor::new(bytes)) {
        Ok(()) => {
            for (name, param) in model.params() {
                assert!(param.iter().all(|v| v.is_finite()), "{name} not finite");
            }
        }
        Err(err) => {
            assert_eq!(&model, net, "a failed load changed the model: {err}");
            assert!(!err.to_string().is_empty());
        }
    }
}
