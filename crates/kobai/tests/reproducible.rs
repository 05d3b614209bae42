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
