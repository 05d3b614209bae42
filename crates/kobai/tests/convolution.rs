//! Convolution and pooling (the book's chapter 7): forward passes against
//! direct nested loops, backward passes against the numerical gradient,
//! small convolutional networks through the gradient check, their text
//! form and `.npz` files, and every bad input an error.

use kobai::layers::{
    Affine, Cache, Convolution, Layer, Mode, PoolKind, Pooling, Relu, Window, col2im, im2col,
};
use kobai::nets::{Compute, LayerSpec, Network};
use kobai::numerical_gradient::{FiniteDiff, Step, layered_numerical_gradient};
use kobai::{Backprop, KobaiError, Model, Params, Result, Sgd, gradient_check, step};
use ndarray::{Array, Array1, Array2, Array4, ArrayD, ArrayRef4, ShapeBuilder};

/// Smooth, irregular values for an array of `shape`.
fn wave<Sh: ShapeBuilder>(shape: Sh, seed: f64) -> Array<f64, Sh::Dim> {
    let mut k = 0.0;
    Array::from_shape_simple_fn(shape, || {
        k += 1.0;
        (k * 0.731 + seed).sin() + 0.3 * (k * 0.177 + 2.0 * seed).cos()
    })
}

/// The convolution by its definition, pixel by pixel.
fn direct_conv(
    x: &Array4<f64>,
    w: &Array4<f64>,
    b: &Array1<f64>,
    s: usize,
    p: usize,
) -> Array4<f64> {
    let (n, c, h, wd) = x.dim();
    let (f, _, fh, fw) = w.dim();
    let oh = (h + 2 * p - fh) / s + 1;
    let ow = (wd + 2 * p - fw) / s + 1;
    let mut out = Array4::zeros((n, f, oh, ow));
    for img in 0..n {
        for k in 0..f {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut sum = b[k];
                    for ch in 0..c {
                        for ky in 0..fh {
                            for kx in 0..fw {
                                let (y, xx) = (oy * s + ky, ox * s + kx);
                                if y >= p && y - p < h && xx >= p && xx - p < wd {
                                    sum += w[[k, ch, ky, kx]] * x[[img, ch, y - p, xx - p]];
                                }
                            }
                        }
                    }
                    out[[img, k, oy, ox]] = sum;
                }
            }
        }
    }
    out
}

/// Pooling by its definition; padding pixels are zeros that take part.
fn direct_pool(
    x: &Array4<f64>,
    kind: PoolKind,
    (ph, pw): (usize, usize),
    s: usize,
    p: usize,
) -> Array4<f64> {
    let (n, c, h, w) = x.dim();
    let oh = (h + 2 * p - ph) / s + 1;
    let ow = (w + 2 * p - pw) / s + 1;
    let mut out = Array4::zeros((n, c, oh, ow));
    for img in 0..n {
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut values = Vec::new();
                    for ky in 0..ph {
                        for kx in 0..pw {
                            let (y, xx) = (oy * s + ky, ox * s + kx);
                            let inside = y >= p && y - p < h && xx >= p && xx - p < w;
                            values.push(if inside {
                                x[[img, ch, y - p, xx - p]]
                            } else {
                                0.0
                            });
                        }
                    }
                    out[[img, ch, oy, ox]] = match kind {
                        PoolKind::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                        PoolKind::Average => values.iter().sum::<f64>() / values.len() as f64,
                    };
                }
            }
        }
    }
    out
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>, tol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        assert!((x - y).abs() <= tol * scale, "{what}[{i}]: {x} vs {y}");
    }
}

/// One input image: (C, H, W).
type Image = (usize, usize, usize);

/// A convolution's sizes: (filters, (C, H, W), (FH, FW), stride, pad).
type ConvShape = (usize, Image, (usize, usize), usize, usize);

/// (filters, (C, H, W), (FH, FW), stride, pad): pad > 0, stride > 1,
/// C > 1, non-square images and filters, a 1x1 filter.
const CONV_SHAPES: [ConvShape; 7] = [
    (2, (1, 5, 5), (3, 3), 1, 0),
    (3, (2, 8, 6), (3, 3), 1, 1),
    (2, (3, 8, 6), (3, 2), 2, 1),
    (4, (2, 7, 7), (5, 5), 2, 2),
    (1, (1, 6, 9), (2, 4), 3, 0),
    (2, (3, 4, 4), (1, 1), 1, 0),
    (2, (1, 3, 2), (4, 4), 1, 1),
];

fn conv_layer((f, input, filter, stride, pad): ConvShape, seed: f64) -> Result<Convolution> {
    let w = wave((f, input.0, filter.0, filter.1), seed);
    let b = wave(f, seed + 1.0);
    Convolution::new(w, b, stride, pad, input)
}

#[test]
fn convolution_forward_is_the_definition() -> Result<()> {
    for (k, shape) in CONV_SHAPES.into_iter().enumerate() {
        let layer = conv_layer(shape, k as f64)?;
        let (c, h, w) = shape.1;
        let x = wave((3, c, h, w), 10.0 + k as f64);
        let expected = direct_conv(&x, &layer.w, &layer.b, shape.3, shape.4).into_dyn();
        let out = layer.forward(x.clone().into_dyn(), Mode::Train)?.output;
        close(&out, &expected, 1e-13, &format!("{shape:?}"));
        let (f, oh, ow) = layer.output_shape();
        assert_eq!(out.shape(), &[3, f, oh, ow]);
        // Rows of C·H·W values, as a network feeds them: the same output.
        let rows = x
            .into_shape_with_order((3, c * h * w))
            .expect("rows")
            .into_dyn();
        assert_eq!(layer.forward(rows, Mode::Eval)?.output, out);
    }
    Ok(())
}

#[test]
fn pooling_forward_is_the_definition() -> Result<()> {
    for kind in [PoolKind::Max, PoolKind::Average] {
        for (shape, pool, stride, pad) in [
            ((2, 3, 4, 4), (2, 2), 2, 0),
            ((1, 2, 8, 6), (3, 3), 2, 1),
            ((2, 1, 7, 5), (2, 3), 1, 0),
            ((1, 2, 5, 5), (3, 2), 3, 1),
            ((1, 1, 2, 2), (3, 3), 1, 1),
        ] {
            let layer = Pooling::new(kind, pool, stride, pad)?;
            let x = wave(shape, 3.0);
            let out = layer.forward(x.clone().into_dyn(), Mode::Train)?.output;
            let expected = direct_pool(&x, kind, pool, stride, pad).into_dyn();
            close(
                &out,
                &expected,
                1e-15,
                &format!("{kind:?} {shape:?} {pool:?}"),
            );
        }
    }
    Ok(())
}

/// dL/d(parameters and input) of `L = Σ dout ⊙ layer(x)`, numerically and
/// by backprop, compared.
fn check_backward(layer: &dyn Layer, x: ArrayD<f64>, seed: f64, what: &str) -> Result<()> {
    let out = layer.forward(x.clone(), Mode::Train)?;
    let dout = wave(out.output.raw_dim(), seed);
    let back = layer.backward(&out.cache, dout.clone())?;
    let loss = |layer: &dyn Layer, x: &ArrayD<f64>| -> Result<f64> {
        let y = layer.forward(x.clone(), Mode::Train)?.output;
        Ok((&y * &dout).sum())
    };
    // Central differences at a fixed step: exact for a linear map up to
    // rounding; for max pooling, exact while no maximum changes place.
    let diff = FiniteDiff::accurate().step(Step::Fixed(1e-4));
    let dx = diff.gradient(
        |x: &ndarray::ArrayRef<f64, ndarray::IxDyn>| loss(layer, &x.to_owned()),
        &x,
    )?;
    close(&back.dx, &dx.value, 1e-9, &format!("{what}: dx"));
    for (k, (name, _, p)) in layer.params().into_iter().enumerate() {
        let numeric = diff.gradient(
            |v: &ndarray::ArrayRef<f64, ndarray::IxDyn>| {
                let mut probe = layer.clone_box();
                if let Some((_, mut q)) = probe.params_mut().into_iter().nth(k) {
                    q.assign(v);
                }
                loss(&*probe, &x)
            },
            &p.to_owned(),
        )?;
        close(
            &back.grads[k],
            &numeric.value,
            1e-9,
            &format!("{what}: d{name}"),
        );
    }
    assert_eq!(back.grads.len(), layer.params().len());
    Ok(())
}

#[test]
fn convolution_backward_is_the_numerical_gradient() -> Result<()> {
    for (k, shape) in CONV_SHAPES.into_iter().enumerate() {
        let layer = conv_layer(shape, k as f64)?;
        let (c, h, w) = shape.1;
        let images = wave((2, c, h, w), 20.0 + k as f64).into_dyn();
        check_backward(&layer, images, k as f64, &format!("{shape:?} images"))?;
        let rows = wave((2, c * h * w), 30.0 + k as f64).into_dyn();
        check_backward(&layer, rows, k as f64, &format!("{shape:?} rows"))?;
    }
    Ok(())
}

#[test]
fn pooling_backward_is_the_numerical_gradient() -> Result<()> {
    for kind in [PoolKind::Max, PoolKind::Average] {
        for (shape, pool, stride, pad) in [
            ((2, 2, 4, 4), (2, 2), 2, 0),
            ((1, 2, 8, 6), (3, 3), 2, 1),
            ((2, 1, 5, 5), (2, 2), 1, 0),
            ((1, 1, 7, 4), (3, 2), 2, 1),
        ] {
            // Distinct values 0.05 apart, none within 0.013 of the padding's
            // zeros: no maximum changes place under a probe of 1e-4.
            let len: usize = [shape.0, shape.1, shape.2, shape.3].iter().product();
            let x = Array::from_shape_fn(shape, |(n, c, y, xx)| {
                let i = ((n * shape.1 + c) * shape.2 + y) * shape.3 + xx;
                ((i * 37 + 11) % len) as f64 * 0.05 - 1.013
            });
            let layer = Pooling::new(kind, pool, stride, pad)?;
            check_backward(
                &layer,
                x.into_dyn(),
                4.0,
                &format!("{kind:?} {shape:?} {pool:?}"),
            )?;
        }
    }
    Ok(())
}

#[test]
fn max_pooling_routes_ties_to_the_first_maximum() -> Result<()> {
    let layer = Pooling::new(PoolKind::Max, (2, 2), 2, 0)?;
    let x = Array::from_shape_vec((1, 1, 2, 2), vec![1.0, 3.0, 3.0, 3.0]).expect("shape");
    let out = layer.forward(x.into_dyn(), Mode::Train)?;
    let back = layer.backward(&out.cache, Array4::from_elem((1, 1, 1, 1), 2.0).into_dyn())?;
    assert_eq!(
        back.dx.iter().copied().collect::<Vec<_>>(),
        [0.0, 2.0, 0.0, 0.0]
    );
    Ok(())
}

#[test]
fn im2col_and_col2im_agree_with_the_layers() -> Result<()> {
    // col2im(im2col(x)) multiplies each pixel by the number of windows over it.
    let window = Window::new(3, 3, 1, 1)?;
    let ones = Array4::<f64>::ones((1, 1, 4, 4));
    let counts = col2im(&im2col(&ones, &window)?, (1, 1, 4, 4), &window)?;
    let corner_edge_inner = (
        counts[[0, 0, 0, 0]],
        counts[[0, 0, 0, 1]],
        counts[[0, 0, 1, 1]],
    );
    assert_eq!(corner_edge_inner, (4.0, 6.0, 9.0));
    Ok(())
}

/// A conv → relu → pool → affine → relu → affine network with irregular,
/// non-zero weights.
fn conv_net(
    conv: ConvShape,
    pool: (PoolKind, (usize, usize), usize, usize),
    hidden: usize,
    classes: usize,
    seed: u64,
) -> Result<Network> {
    let (filters, input, filter, stride, pad) = conv;
    let mut conv =
        Convolution::zeros(filters, input, filter, stride, pad)?.with_normal_init(0.4, seed)?;
    conv.b = wave(filters, seed as f64) * 0.1;
    let pool = Pooling::new(pool.0, pool.1, pool.2, pool.3)?;
    let pooled = pool
        .forward(
            ArrayD::zeros([&[1][..], &<[usize; 3]>::from(conv.output_shape())[..]].concat()),
            Mode::Eval,
        )?
        .output
        .len();
    let affine = |inputs: usize, outputs: usize, s: f64| {
        Affine::new(
            wave((inputs, outputs), s) * (1.5 / (inputs as f64).sqrt()),
            wave(outputs, s + 0.5) * 0.1,
        )
    };
    Network::new(vec![
        Box::new(conv),
        Box::new(Relu),
        Box::new(pool),
        Box::new(affine(pooled, hidden, seed as f64 + 3.0)?),
        Box::new(Relu),
        Box::new(affine(hidden, classes, seed as f64 + 7.0)?),
    ])
}

fn batch(
    rows: usize,
    input: (usize, usize, usize),
    classes: usize,
    seed: f64,
) -> (Array2<f64>, Vec<usize>) {
    let x = wave((rows, input.0 * input.1 * input.2), seed);
    let labels = (0..rows).map(|r| (r * 5 + 1) % classes).collect();
    (x, labels)
}

fn nets() -> Result<Vec<(Network, Image)>> {
    Ok(vec![
        (
            conv_net(
                (3, (2, 7, 6), (3, 3), 1, 1),
                (PoolKind::Max, (2, 2), 2, 0),
                5,
                3,
                1,
            )?,
            (2, 7, 6),
        ),
        (
            conv_net(
                (4, (1, 8, 6), (3, 2), 2, 1),
                (PoolKind::Average, (2, 2), 1, 0),
                4,
                3,
                2,
            )?
            .with_weight_decay(0.05)?,
            (1, 8, 6),
        ),
        (
            conv_net(
                (2, (1, 6, 6), (3, 3), 1, 0),
                (PoolKind::Max, (3, 3), 2, 1),
                4,
                2,
                3,
            )?,
            (1, 6, 6),
        ),
    ])
}

#[test]
fn conv_networks_pass_the_gradient_check() -> Result<()> {
    for (k, (net, input)) in nets()?.into_iter().enumerate() {
        let classes = net.params().last().expect("params").1.len();
        let (x, labels) = batch(3, input, classes, k as f64);
        let report = gradient_check(&net, &x, &(&labels).into())?;
        assert!(
            report.passed(),
            "{}\n{report}",
            net.architecture().unwrap_or_default()
        );
        assert_eq!(
            report.tensors.len(),
            net.params().len(),
            "every parameter checked"
        );
        for tensor in &report.tensors {
            assert!(
                tensor.max_rel_error < 1e-6,
                "{}: {}",
                tensor.name,
                tensor.max_rel_error
            );
        }
    }
    Ok(())
}

#[test]
fn the_structure_aware_numerical_gradient_reruns_conv_layers() -> Result<()> {
    for (k, (net, input)) in nets()?.into_iter().enumerate() {
        let classes = net.params().last().expect("params").1.len();
        let (x, labels) = batch(2, input, classes, 5.0 + k as f64);
        let t = (&labels).into();
        let layered = layered_numerical_gradient(&net, &x, &t, 1e-7)?;
        let brute = kobai::numerical_gradient::model_numerical_gradient(&net, &x, &t, 1e-7)?;
        for (name, g) in brute.iter() {
            close(&layered[name], g, 1e-6, name);
        }
    }
    Ok(())
}

#[test]
// Without the `npz` feature only the names and the architecture are checked.
#[cfg_attr(not(feature = "npz"), allow(unused_mut, unused_variables))]
fn names_architecture_and_npz_round_trip() -> Result<()> {
    let (net, input) = nets()?.remove(0);
    let names: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "conv1.W",
            "conv1.b",
            "affine1.W",
            "affine1.b",
            "affine2.W",
            "affine2.b"
        ]
    );
    let text = net.architecture().expect("a network describes itself");
    assert_eq!(
        text,
        "conv(3,2x7x6,3x3,stride=1,pad=1) relu pool(max,2x2,stride=2,pad=0) affine(27,5) relu affine(5,3)"
    );
    let mut copy = Network::from_architecture(&text)?;
    assert_eq!(copy.architecture().as_deref(), Some(text.as_str()));
    assert!(
        copy.params()
            .iter()
            .all(|(_, p)| p.iter().all(|&v| v == 0.0)),
        "zero weights"
    );

    #[cfg(feature = "npz")]
    {
        use kobai::model::{load_npz, read_architecture, save_npz};
        let path = std::env::temp_dir().join(format!("kobai-conv-{}.npz", std::process::id()));
        save_npz(&net, &path)?;
        assert_eq!(read_architecture(&path)?.as_deref(), Some(text.as_str()));
        load_npz(&mut copy, &path)?;
        std::fs::remove_file(&path).ok();
        for ((a, p), (b, q)) in net.params().into_iter().zip(copy.params()) {
            assert_eq!((a, p.to_owned()), (b, q.to_owned()));
        }
        let (x, _) = batch(4, input, 3, 9.0);
        assert_eq!(net.predict(&x)?, copy.predict(&x)?);
    }
    Ok(())
}

#[test]
fn specs_round_trip_and_build_what_they_say() -> Result<()> {
    for text in [
        "conv(30,1x28x28,5x5,stride=1,pad=0)",
        "conv(2,3x8x6,3x2,stride=2,pad=1)",
        "pool(max,2x2,stride=2,pad=0)",
        "pool(avg,3x2,stride=1,pad=1)",
    ] {
        let spec: LayerSpec = text.parse()?;
        assert_eq!(spec.to_string(), text);
        assert_eq!(spec.build()?.spec(), spec);
    }
    let conv = LayerSpec::Convolution {
        filters: 2,
        input: (3, 8, 6),
        filter: (3, 2),
        stride: 2,
        pad: 1,
    }
    .build()?;
    assert_eq!(conv.kind(), "conv");
    assert_eq!(conv.params()[0].2.shape(), &[2, 3, 3, 2]);
    assert_eq!(conv.params()[0].1, kobai::layers::ParamKind::Weight);
    assert_eq!(conv.params()[1].1, kobai::layers::ParamKind::Other);
    Ok(())
}

#[test]
fn conv_networks_outside_the_fused_engine_run_on_the_layers() -> Result<()> {
    // Average pooling with weight decay; padded max pooling. (The covered
    // shape is tested against the layers in tests/fused_conv.rs.)
    let mut nets = nets()?;
    assert_eq!(
        nets[0].0.clone().with_compute(Compute::FusedF32).engine(),
        Compute::FusedF32
    );
    for (net, input) in nets.drain(1..) {
        let fused = net.clone().with_compute(Compute::FusedF32);
        assert_eq!(fused.engine(), Compute::Layers);
        let classes = net.params().last().expect("params").1.len();
        let (x, labels) = batch(3, input, classes, 2.0);
        let t = (&labels).into();
        assert_eq!(fused.gradient(&x, &t)?.0, net.gradient(&x, &t)?.0);
    }
    Ok(())
}

#[test]
fn a_conv_network_learns() -> Result<()> {
    let (mut net, input) = nets()?.remove(0);
    let (x, labels) = batch(6, input, 3, 4.0);
    let t = (&labels).into();
    let before = net.loss(&x, &t)?;
    let mut sgd = Sgd::new(0.1)?;
    for _ in 0..30 {
        let (_, grads) = net.gradient(&x, &t)?;
        step(&mut sgd, &mut net, &grads)?;
    }
    let after = net.loss(&x, &t)?;
    assert!(after < 0.5 * before, "{before} → {after}");
    Ok(())
}

fn is_hyper<T: std::fmt::Debug>(r: Result<T>) -> bool {
    matches!(r, Err(KobaiError::Hyperparameter { .. }))
}

fn is_shape<T: std::fmt::Debug>(r: Result<T>) -> bool {
    matches!(r, Err(KobaiError::Shape { .. }))
}

#[test]
fn bad_layers_are_refused() {
    let w = || Array4::<f64>::zeros((2, 1, 3, 3));
    let b = || Array1::<f64>::zeros(2);
    // Stride 0, for every constructor.
    assert!(is_hyper(Convolution::new(w(), b(), 0, 0, (1, 5, 5))));
    assert!(is_hyper(Convolution::zeros(2, (1, 5, 5), (3, 3), 0, 0)));
    assert!(is_hyper(Pooling::new(PoolKind::Max, (2, 2), 0, 0)));
    assert!(is_hyper(Window::new(2, 2, 0, 0)));
    // Empty sizes.
    assert!(is_hyper(Convolution::zeros(0, (1, 5, 5), (3, 3), 1, 0)));
    assert!(is_hyper(Convolution::zeros(2, (0, 5, 5), (3, 3), 1, 0)));
    assert!(is_hyper(Convolution::zeros(2, (1, 5, 5), (0, 3), 1, 0)));
    assert!(is_hyper(Convolution::new(w(), b(), 1, 0, (1, 0, 5))));
    assert!(is_hyper(Pooling::new(PoolKind::Average, (2, 0), 1, 0)));
    assert!(is_shape(Convolution::new(
        Array4::zeros((0, 1, 3, 3)),
        Array1::zeros(0),
        1,
        0,
        (1, 5, 5)
    )));
    // A filter larger than the padded image; padding makes it fit.
    assert!(is_shape(Convolution::new(w(), b(), 1, 0, (1, 2, 5))));
    assert!(is_shape(Convolution::zeros(2, (1, 5, 2), (3, 3), 1, 0)));
    assert!(Convolution::new(w(), b(), 1, 1, (1, 2, 5)).is_ok());
    // Bias and channels that do not fit the filters.
    assert!(is_shape(Convolution::new(
        w(),
        Array1::zeros(3),
        1,
        0,
        (1, 5, 5)
    )));
    assert!(is_shape(Convolution::new(w(), b(), 1, 0, (2, 5, 5))));
}

#[test]
fn bad_inputs_are_refused() -> Result<()> {
    let conv = Convolution::zeros(2, (3, 5, 4), (3, 3), 1, 0)?;
    let wrong = [
        vec![2, 59],
        vec![2, 2, 5, 4],
        vec![2, 3, 4, 5],
        vec![3, 5, 4],
        vec![60],
    ];
    for shape in wrong {
        let err = conv
            .forward(ArrayD::zeros(shape.clone()), Mode::Train)
            .unwrap_err();
        assert!(matches!(err, KobaiError::Shape { .. }), "{shape:?}: {err}");
    }
    let err = conv
        .forward(ArrayD::zeros(vec![2, 59]), Mode::Train)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "convolution input has shape [2, 59] but the layer takes images of 3x5x4: rows of 60 \
         values or an array of shape [N, 3, 5, 4]"
    );
    // A backward pass with the wrong gradient or another layer's cache.
    let out = conv.forward(ArrayD::zeros(vec![2, 60]), Mode::Train)?;
    assert!(is_shape(
        conv.backward(&out.cache, ArrayD::zeros(vec![2, 2, 3, 3]))
    ));
    assert!(matches!(
        conv.backward(&Cache::empty(), out.output.clone()),
        Err(KobaiError::Layer { .. })
    ));
    // Pooling: only images, and a window that fits them.
    let pool = Pooling::new(PoolKind::Max, (3, 3), 2, 0)?;
    assert!(is_shape(
        pool.forward(ArrayD::zeros(vec![2, 60]), Mode::Train)
    ));
    assert!(is_shape(
        pool.forward(ArrayD::zeros(vec![2, 3, 2, 4]), Mode::Train)
    ));
    let out = pool.forward(ArrayD::zeros(vec![2, 3, 5, 4]), Mode::Train)?;
    assert!(is_shape(
        pool.backward(&out.cache, ArrayD::zeros(vec![2, 3, 1, 1]))
    ));
    assert!(pool.backward(&Cache::empty(), out.output).is_err());
    // im2col and col2im.
    let window = Window::new(3, 3, 1, 0)?;
    assert!(is_shape(im2col(&Array4::zeros((1, 1, 2, 3)), &window)));
    assert!(is_shape(col2im(
        &Array2::zeros((1, 8)),
        (1, 1, 3, 3),
        &window
    )));
    // In a network: a shape error that names the layer.
    let (net, _) = nets()?.remove(0);
    let err = net.predict(&Array2::zeros((2, 83))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("layer conv1: convolution input has shape [2, 83]"),
        "{err}"
    );
    Ok(())
}

#[test]
fn bad_specs_are_refused() {
    for text in [
        "conv(30,1x28,5x5,stride=1,pad=0)",
        "conv(30,1x28x28,5x5x5,stride=1,pad=0)",
        "conv(30,1x28x28,5x5,stride=0,pad=0)",
        "conv(30,1x28x28,5x5,pad=0,stride=1)",
        "conv(30,1x28x28,5x5,stride=1)",
        "conv(0,1x28x28,5x5,stride=1,pad=0)",
        "conv(30,0x28x28,5x5,stride=1,pad=0)",
        "conv(30,1x4x4,5x5,stride=1,pad=0)",
        "conv(30,1x28x28,5x5,stride=1,pad=-1)",
        "pool(min,2x2,stride=2,pad=0)",
        "pool(max,2x2,stride=0,pad=0)",
        "pool(max,0x2,stride=2,pad=0)",
        "pool(max,2x2x2,stride=2,pad=0)",
        "pool(max,2x2)",
        "pool",
    ] {
        assert!(text.parse::<LayerSpec>().is_err(), "{text}");
    }
}

/// `im2col` on a view of another layout (a transposed batch) reads the
/// same images.
#[test]
fn im2col_reads_any_layout() -> Result<()> {
    let x = wave((2, 3, 5, 4), 1.0);
    let window = Window::new(2, 3, 1, 1)?;
    let fortran = {
        let mut f = Array4::<f64>::zeros(x.raw_dim().f());
        f.assign(&x);
        f
    };
    let view: &ArrayRef4<f64> = &fortran;
    assert_eq!(im2col(view, &window)?, im2col(&x, &window)?);
    Ok(())
}
