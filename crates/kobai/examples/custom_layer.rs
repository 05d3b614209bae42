//! A layer kobai does not ship — Swish, `x · sigmoid(β x)` with a learned β —
//! put in a network, trained a few steps, and gradient-checked with the same
//! single call that checks the built-in layers.
//!
//! Run with `cargo run -p kobai --example custom_layer`.

use kobai::layers::{Affine, Backward, Cache, Forward, Layer, Mode, ParamKind};
use kobai::nets::Network;
use kobai::{Adam, Backprop, Params, Result, gradient_check, step};
use ndarray::{Array1, Array2, ArrayD, ArrayViewD, ArrayViewMutD, Zip, arr1};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Swish (Ramachandran et al., 2017): `y = x · σ(β x)`, one β for the layer.
#[derive(Debug, Clone)]
struct Swish {
    /// β, learned like any weight (a 1-element array, so that optimizers,
    /// `.npz` files and checkpoints see a parameter like the others).
    beta: Array1<f64>,
}

/// What the backward pass needs: the input and σ(β x).
struct SwishCache {
    x: ArrayD<f64>,
    s: ArrayD<f64>,
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

impl Layer for Swish {
    fn kind(&self) -> &str {
        "swish"
    }

    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        let beta = self.beta[0];
        let s = x.mapv(|v| sigmoid(beta * v));
        let y = &x * &s;
        Ok(Forward::new(y, Cache::new(SwishCache { x, s })))
    }

    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let SwishCache { x, s } = cache.get(self.kind())?;
        let beta = self.beta[0];
        // dy/dx = s + β x s (1 − s);  dy/dβ = x² s (1 − s)
        let dx = Zip::from(x)
            .and(s)
            .and(&dout)
            .map_collect(|&x, &s, &d| d * (s + beta * x * s * (1.0 - s)));
        let dbeta = Zip::from(x)
            .and(s)
            .and(&dout)
            .fold(0.0, |acc, &x, &s, &d| acc + d * x * x * s * (1.0 - s));
        Ok(Backward {
            dx,
            grads: vec![arr1(&[dbeta]).into_dyn()],
        })
    }

    fn params(&self) -> Vec<(&'static str, ParamKind, ArrayViewD<'_, f64>)> {
        vec![("beta", ParamKind::Other, self.beta.view().into_dyn())]
    }

    fn params_mut(&mut self) -> Vec<(&'static str, ArrayViewMutD<'_, f64>)> {
        vec![("beta", self.beta.view_mut().into_dyn())]
    }
}

fn affine(inputs: usize, outputs: usize, rng: &mut ChaCha8Rng) -> Result<Box<dyn Layer>> {
    let scale = (1.0 / inputs as f64).sqrt();
    let w = Array2::from_shape_simple_fn((inputs, outputs), || {
        let z: f64 = StandardNormal.sample(rng);
        scale * z
    });
    Ok(Box::new(Affine::new(w, Array1::zeros(outputs))?))
}

fn main() -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut net = Network::new(vec![
        affine(2, 16, &mut rng)?,
        Box::new(Swish { beta: arr1(&[1.0]) }),
        affine(16, 3, &mut rng)?,
    ])?
    .with_weight_decay(1e-3)?;
    let names: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
    println!("network: {}", net.architecture().unwrap_or_default());
    println!("parameters: {names:?}");

    // The built-in spiral: three arms of points in the plane.
    let (train, _) = kobai::spiral(60, 0.2, 0)?;
    let (x, labels) = train.batch(&(0..train.len()).collect::<Vec<_>>())?;
    let t = (&labels).into();

    // A few steps of Adam: the loss goes down, β moves.
    let mut adam = Adam::new(0.05, 0.9, 0.999)?;
    let (first, _) = net.gradient(&x, &t)?;
    for _ in 0..50 {
        let (_, grads) = net.gradient(&x, &t)?;
        step(&mut adam, &mut net, &grads)?;
    }
    let (last, _) = net.gradient(&x, &t)?;
    let beta = net.params()[2].1[0];
    println!("loss {first:.4} -> {last:.4} after 50 Adam steps; beta = {beta:.4}");
    assert!(last < first, "training lowers the loss");

    // The same single call that checks the built-in layers.
    let rows: Vec<usize> = (0..8).collect();
    let (xs, ls) = train.batch(&rows)?;
    let check = gradient_check(&net, &xs, &(&ls).into())?;
    println!("{check}");
    assert!(
        check.passed(),
        "backprop of Swish matches the numerical gradient"
    );
    Ok(())
}
