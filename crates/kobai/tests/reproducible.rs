//! Every random thing takes a seed, and the same seed gives the same bits.

use kobai::SimpleNet;

#[test]
fn the_same_seed_gives_the_same_weights() {
    for seed in [0, 1, 42, u64::MAX] {
        assert_eq!(SimpleNet::new(seed), SimpleNet::new(seed));
    }
    assert_ne!(SimpleNet::new(0).w, SimpleNet::new(1).w);
}

#[test]
fn seeded_weights_are_pinned_across_versions() {
    // A regression pin, not a reference: ChaCha8 seeded with 42 through
    // rand_distr's StandardNormal, as first computed by kobai 0.1.0. If a
    // dependency update changes these bits, stored results would change too —
    // bump the generator deliberately and say so in the changelog.
    let w = SimpleNet::new(42).w;
    let pinned = PINNED_SEED_42;
    assert_eq!(w.as_slice().expect("standard layout"), &pinned[..]);
}

const PINNED_SEED_42: [f64; 6] = [
    0.47798123835102174,
    1.3340706102318078,
    -0.21086668327103028,
    0.4763469238088213,
    -0.5120906220561634,
    -0.9339784493906981,
];

#[test]
fn standard_normal_moments_are_plausible() {
    // 2×3 is too small to test a distribution; many seeds together are not.
    let values: Vec<f64> = (0..2000)
        .flat_map(|seed| SimpleNet::new(seed).w.into_iter())
        .collect();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    assert!(mean.abs() < 0.05, "mean {mean}");
    assert!((var - 1.0).abs() < 0.05, "variance {var}");
}

mod bits {
    //! Same seed, same bits; serial and parallel, same bits; and every gradient
    //! routine leaves its input exactly as it found it.

    #[cfg(feature = "parallel")]
    use kobai::Grads;
    use kobai::data::Batches;
    use kobai::numerical_gradient::{
        FiniteDiff, exact_gradient, layered_numerical_gradient, model_numerical_gradient,
    };
    #[cfg(feature = "parallel")]
    use kobai::numerical_gradient::{layered_numerical_gradient_par, model_numerical_gradient_par};
    use kobai::{Params, Targets, TwoLayerNet, gradient_check, gradient_check_fast};
    use ndarray::{Array1, Array2, ArrayRef1};

    fn bits<'a>(values: impl IntoIterator<Item = &'a f64>) -> Vec<u64> {
        values.into_iter().map(|v| v.to_bits()).collect()
    }

    fn model_bits(net: &TwoLayerNet) -> Vec<u64> {
        net.params()
            .iter()
            .flat_map(|(_, p)| bits(p.iter()))
            .collect()
    }

    #[cfg(feature = "parallel")]
    fn grads_bits(g: &Grads) -> Vec<u64> {
        g.iter().flat_map(|(_, a)| bits(a.iter())).collect()
    }

    fn batch() -> (Array2<f64>, Vec<usize>) {
        let x = Array2::from_shape_fn((6, 12), |(i, j)| (((i * 12 + j) as f64) * 0.37).sin());
        (x, vec![0, 2, 1, 3, 3, 0])
    }

    #[test]
    fn initialisation_and_batches_repeat_bit_for_bit() {
        let a = TwoLayerNet::new(12, 7, 4, 0.1, 9).expect("valid");
        let b = TwoLayerNet::new(12, 7, 4, 0.1, 9).expect("valid");
        assert_eq!(model_bits(&a), model_bits(&b));
        for shuffled in [true, false] {
            let make = || {
                if shuffled {
                    Batches::shuffled(50, 8, 3)
                } else {
                    Batches::with_replacement(50, 8, 3)
                }
                .expect("valid")
            };
            let (mut p, mut q) = (make(), make());
            for _ in 0..20 {
                assert_eq!(p.next_batch(), q.next_batch());
            }
        }
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn serial_and_parallel_numerical_gradients_are_the_same_bits() {
        let net = TwoLayerNet::new(12, 7, 4, 0.3, 1).expect("valid");
        let (x, labels) = batch();
        let t = Targets::from(&labels);
        let serial = model_numerical_gradient(&net, &x, &t, 1e-7).expect("finite");
        let parallel = model_numerical_gradient_par(&net, &x, &t, 1e-7).expect("finite");
        assert_eq!(grads_bits(&serial), grads_bits(&parallel));
        let layered = layered_numerical_gradient(&net, &x, &t, 1e-7).expect("finite");
        let layered_par = layered_numerical_gradient_par(&net, &x, &t, 1e-7).expect("finite");
        assert_eq!(grads_bits(&layered), grads_bits(&layered_par));
        let v = Array1::linspace(-3.0, 3.0, 2000);
        let f = |a: &ArrayRef1<f64>| a.iter().map(|x| x.sin() * x).sum::<f64>();
        for fd in [FiniteDiff::book(), FiniteDiff::accurate()] {
            let s = fd.gradient(f, &v).expect("finite");
            let p = fd.gradient_par(f, &v).expect("finite");
            assert_eq!(bits(s.value.iter()), bits(p.value.iter()));
        }
    }

    #[test]
    fn every_gradient_routine_leaves_its_input_bitwise_unchanged() {
        let net = TwoLayerNet::new(12, 7, 4, 0.3, 2).expect("valid");
        let before = model_bits(&net);
        let (x, labels) = batch();
        let x_before = bits(x.iter());
        let t = Targets::from(&labels);
        model_numerical_gradient(&net, &x, &t, 0.0).expect("finite");
        #[cfg(feature = "parallel")]
        model_numerical_gradient_par(&net, &x, &t, 0.0).expect("finite");
        layered_numerical_gradient(&net, &x, &t, 0.0).expect("finite");
        gradient_check(&net, &x, &t).expect("valid");
        gradient_check_fast(&net, &x, &t, 2, 0).expect("valid");
        assert_eq!(model_bits(&net), before);
        assert_eq!(bits(x.iter()), x_before);

        let v = Array1::from_vec(vec![0.3, -1.7, 2.5, 1e-3]);
        let v_before = bits(v.iter());
        let f = |a: &ArrayRef1<f64>| a.iter().map(|x| x * x * x).sum::<f64>();
        kobai::numerical_gradient(f, &v).expect("finite");
        FiniteDiff::accurate().gradient(f, &v).expect("finite");
        #[cfg(feature = "parallel")]
        FiniteDiff::accurate().gradient_par(f, &v).expect("finite");
        FiniteDiff::accurate().hessian(f, &v).expect("finite");
        FiniteDiff::accurate()
            .jacobian(|a: &ArrayRef1<f64>| a.mapv(f64::exp), &v)
            .expect("finite");
        exact_gradient(
            |a: &ArrayRef1<kobai::numerical_gradient::Dual64>| {
                a.iter()
                    .fold(kobai::numerical_gradient::Dual64::from(0.0), |s, x| {
                        s + *x * *x * *x
                    })
            },
            &v,
        )
        .expect("finite");
        assert_eq!(bits(v.iter()), v_before);
    }
}
