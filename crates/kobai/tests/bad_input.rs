//! Bad input gets a typed error whose message names what was expected and what
//! was found — never a panic, and the caller's arrays are left as they were.

use kobai::{
    KobaiError, SimpleNet, cross_entropy_error, function_2, gradient_descent, numerical_diff,
    numerical_gradient, rosenbrock, simple_net_loss, softmax,
};
use ndarray::{Array1, Array2, array};

#[test]
fn cross_entropy_rejects_mismatched_targets() {
    let y = array![[0.2, 0.8], [0.5, 0.5]];
    let err = cross_entropy_error(&y, &array![0.0, 1.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "one-hot targets has shape [2] but the predictions are 2 row(s) of 2 classes"
    );
    let err = cross_entropy_error(&y, &[1usize]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "labels has shape [1] but expected one label for each of the 2 predictions"
    );
}

#[test]
fn cross_entropy_rejects_labels_out_of_range() {
    let err = cross_entropy_error(&array![[0.2, 0.8], [0.5, 0.5]], &[1usize, 2]).unwrap_err();
    assert_eq!(
        err,
        KobaiError::LabelOutOfRange {
            label: 2,
            row: 1,
            classes: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "label 2 at row 1 is out of range; expected a class index below 2"
    );
}

#[test]
fn cross_entropy_rejects_targets_that_are_not_one_hot() {
    let y = array![0.2, 0.3, 0.5];
    let err = cross_entropy_error(&y, &array![0.0, 0.5, 0.5]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "targets row 0 is not one-hot (it holds 0.5); expected zeros and a single 1"
    );
    let err = cross_entropy_error(&y, &array![1.0, 0.0, 1.0]).unwrap_err();
    assert!(matches!(err, KobaiError::NotOneHot { row: 0, .. }), "{err}");
    let err = cross_entropy_error(&y, &array![0.0, 0.0, 0.0]).unwrap_err();
    assert!(err.to_string().contains("it holds 0 ones"), "{err}");
}

#[test]
fn cross_entropy_rejects_scores_that_are_not_probabilities() {
    // Logits passed by mistake instead of softmax output.
    let err = cross_entropy_error(&array![-1.2, 0.3, 2.0], &[2usize]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "predictions hold 2 at index [0, 2]; expected probabilities in [0, 1] (apply softmax first)"
    );
    let err = cross_entropy_error(&array![f64::NAN, 1.0], &[1usize]).unwrap_err();
    assert!(matches!(err, KobaiError::NonFinite { .. }), "{err}");
}

#[test]
fn cross_entropy_rejects_empty_and_three_axis_predictions() {
    let err = cross_entropy_error(&Array1::<f64>::zeros(0), &[0usize]).unwrap_err();
    assert!(matches!(err, KobaiError::Empty { .. }), "{err}");
    let err =
        cross_entropy_error(&ndarray::Array3::<f64>::zeros((1, 1, 2)), &[0usize]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "predictions has shape [1, 1, 2] but expected one sample (1-D) or a batch of rows (2-D)"
    );
}

#[test]
fn softmax_rejects_overflowing_input() {
    let err = softmax(&array![1.0, f64::INFINITY]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "softmax input is inf at index [1]; expected a finite number"
    );
}

#[test]
fn numerical_gradient_rejects_non_finite_points_and_values() {
    let x = array![1.0, f64::NAN];
    let err = numerical_gradient(function_2, &x).unwrap_err();
    assert_eq!(
        err.to_string(),
        "x is NaN at index [1]; expected a finite number"
    );
    let err = numerical_gradient(|v| v[0].ln(), &array![0.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "f(x - h) is NaN at index [0]; expected a finite number"
    );
    let err = numerical_diff(|x: f64| 1.0 / x, f64::NAN).unwrap_err();
    assert!(matches!(err, KobaiError::NonFinite { .. }), "{err}");
}

#[test]
fn numerical_gradient_passes_on_the_functions_own_errors() {
    let x = array![1.0, 2.0, 3.0];
    let err = numerical_gradient(function_2, &x).unwrap_err();
    assert_eq!(
        err.to_string(),
        "function_2's x has shape [3] but expected shape [2]"
    );
    assert_eq!(x, array![1.0, 2.0, 3.0]);
    assert!(numerical_gradient(rosenbrock, &array![1.0]).is_err());
}

#[test]
fn a_failing_gradient_leaves_the_input_as_it_was() {
    // f fails on the second element, after the first was already perturbed.
    let x = array![0.5, 0.0];
    let err = numerical_gradient(|v| if v[1] < 0.0 { f64::NAN } else { v.sum() }, &x).unwrap_err();
    assert!(err.to_string().contains("index [1]"), "{err}");
    assert_eq!(x, array![0.5, 0.0]);
}

#[test]
fn gradient_descent_rejects_bad_learning_rates() {
    let err = gradient_descent(function_2, &array![-3.0, 4.0], -0.1, 10).unwrap_err();
    assert_eq!(
        err.to_string(),
        "lr = -0.1 is invalid; expected a finite number above 0"
    );
    let err = gradient_descent(function_2, &array![-3.0, 4.0], f64::NAN, 10).unwrap_err();
    assert_eq!(
        err.to_string(),
        "lr = NaN is invalid; expected a finite number above 0"
    );
}

#[test]
fn simple_net_rejects_wrong_inputs() {
    let net = SimpleNet::new(1);
    let err = net.predict(&array![0.6, 0.9, 1.2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "x has shape [3] but W has shape [2, 3], so x needs 2 elements"
    );
    let err = net.loss(&array![0.6, 0.9], &[3usize]).unwrap_err();
    assert!(
        matches!(err, KobaiError::LabelOutOfRange { label: 3, .. }),
        "{err}"
    );
    let err =
        simple_net_loss(&Array2::zeros((2, 3)), &array![0.6, 0.9], &array![0.0, 1.0]).unwrap_err();
    assert!(matches!(err, KobaiError::Shape { .. }), "{err}");
    assert!(SimpleNet::from_weights(Array2::zeros((0, 3))).is_err());
    assert!(SimpleNet::from_weights(array![[1.0, f64::INFINITY]]).is_err());
}

/// The rest of the catalogue (see `kobai::doc::bad_input`): each case returns
/// the error it names, and its message says what was expected and what was found.
mod catalogue {
    use kobai::data::{Batches, Dataset};
    use kobai::numerical_gradient::{FiniteDiff, Step};
    use kobai::{
        Backprop, Formula, Grads, KobaiError, Model, Sgd, Targets, TwoLayerNet, minimize, step,
    };
    use ndarray::{Array1, Array2, array};

    /// Asserts the error's variant (by name) and that its message contains `needle`.
    fn is(err: KobaiError, variant: &str, needle: &str) {
        let debug = format!("{err:?}");
        let text = err.to_string();
        assert!(debug.starts_with(variant), "{variant}: {debug}");
        assert!(text.contains(needle), "{needle:?} not in {text:?}");
    }

    fn net() -> TwoLayerNet {
        TwoLayerNet::new(3, 4, 2, 0.5, 1).expect("valid sizes")
    }

    #[test]
    fn arrays_empty_and_mismatched() {
        let empty = Array2::<f64>::zeros((0, 3));
        let none: [usize; 0] = [];
        is(
            net().loss(&empty, &Targets::from(&none)).unwrap_err(),
            "Empty",
            "",
        );
        // Batch of images vs labels.
        let err = Dataset::new(Array2::zeros((3, 2)), Array1::zeros(2), 2).unwrap_err();
        is(err, "Shape", "");
        // Input width vs the network's.
        let err = net()
            .loss(&Array2::zeros((1, 5)), &Targets::from(&[0usize]))
            .unwrap_err();
        is(err, "Shape", "");
        // Gradient vs parameter: an optimizer step with a misshapen gradient changes nothing.
        let mut model = net();
        let before = model.clone();
        let mut grads = Grads::default();
        for (name, p) in kobai::Params::params(&model) {
            let shape: Vec<usize> = p.shape().iter().map(|d| d + 1).collect();
            grads.push(name, ndarray::ArrayD::zeros(shape));
        }
        let mut sgd = Sgd::new(0.1).expect("valid lr");
        is(step(&mut sgd, &mut model, &grads).unwrap_err(), "Shape", "");
        assert_eq!(model, before);
    }

    #[test]
    fn non_finite_values_in_inputs_weights_and_gradients() {
        let x = array![[0.1, f64::NAN, 0.3]];
        is(
            net()
                .gradient(&x, &Targets::from(&[1usize]))
                .map(drop)
                .unwrap_err(),
            "NonFinite",
            "NaN",
        );
        let mut broken = net();
        broken.w2[[0, 0]] = f64::INFINITY;
        let x = array![[0.1, 0.2, 0.3]];
        let err = broken.loss(&x, &Targets::from(&[1usize])).unwrap_err();
        is(err, "NonFinite", "");
        let mut model = net();
        let before = model.clone();
        let (_, mut grads) = model
            .gradient(&x, &Targets::from(&[1usize]))
            .expect("valid");
        grads.get_mut("b1").expect("b1")[[0]] = f64::NAN;
        let mut sgd = Sgd::new(0.1).expect("valid lr");
        is(
            step(&mut sgd, &mut model, &grads).unwrap_err(),
            "NonFinite",
            "NaN",
        );
        assert_eq!(model, before, "a rejected step changes nothing");
    }

    #[test]
    fn hyperparameters() {
        is(Sgd::new(0.0).unwrap_err(), "Hyperparameter", "lr");
        is(Sgd::new(f64::NAN).unwrap_err(), "Hyperparameter", "lr");
        is(
            TwoLayerNet::new(3, 0, 2, 0.01, 0).unwrap_err(),
            "Hyperparameter",
            "hidden",
        );
        is(
            TwoLayerNet::new(3, 4, 2, -1.0, 0).unwrap_err(),
            "Hyperparameter",
            "",
        );
        is(
            Batches::shuffled(10, 0, 0).unwrap_err(),
            "Hyperparameter",
            "batch",
        );
        // A shuffled batch larger than the data is one batch of all of it
        // (documented on `Batches::new`); the CLI refuses it as a likely mistake.
        is(Batches::with_replacement(0, 5, 0).unwrap_err(), "Empty", "");
        // 0 steps is the book's `step_num=0`: the path is the start alone (the
        // CLI refuses `--steps 0` as a likely mistake).
        let mut sgd = Sgd::new(0.1).expect("valid");
        let path = minimize(kobai::function_2, &array![1.0, 2.0], &mut sgd, 0).expect("valid");
        assert_eq!(path, vec![array![1.0, 2.0]]);
        let err = FiniteDiff::book()
            .step(Step::Fixed(0.0))
            .derivative(f64::exp, 0.0)
            .unwrap_err();
        is(err, "Hyperparameter", "h");
        let err = FiniteDiff::accurate()
            .step(Step::Relative(-1.0))
            .derivative(f64::exp, 0.0)
            .unwrap_err();
        is(err, "Hyperparameter", "");
    }

    #[test]
    fn labels_and_one_hot_rows() {
        let x = array![[0.1, 0.2, 0.3]];
        is(
            net().loss(&x, &Targets::from(&[2usize])).unwrap_err(),
            "LabelOutOfRange",
            "2",
        );
        let not_one_hot = array![[0.5, 0.5]];
        let err = net().loss(&x, &Targets::from(&not_one_hot)).unwrap_err();
        is(err, "NotOneHot", "");
        let err = Dataset::new(Array2::zeros((1, 2)), array![5usize], 3).unwrap_err();
        is(err, "LabelOutOfRange", "5");
    }

    #[test]
    fn formulas_and_points() {
        is(
            Formula::parse("(x + 1").unwrap_err(),
            "Formula",
            "never closed",
        );
        is(
            Formula::parse("foo(x)").unwrap_err(),
            "Formula",
            "unknown function",
        );
        is(
            Formula::parse("pow(x)").unwrap_err(),
            "Formula",
            "2 arguments",
        );
        let f = Formula::parse("x0 * x1").expect("valid");
        is(f.evaluate(&array![1.0]).unwrap_err(), "Shape", "");
        // A formula is a function like any other: log(-1) is NaN, and a
        // gradient there is an error naming the component.
        let f = Formula::parse("log(x)").expect("valid");
        assert!(f.evaluate(&array![-1.0]).expect("evaluates").is_nan());
        let err = kobai::numerical_gradient(|x| f.evaluate(x), &array![-1.0]).unwrap_err();
        is(err, "NonFinite", "index [0]");
    }

    #[cfg(feature = "npz")]
    #[test]
    fn output_that_cannot_be_written() {
        // /proc refuses new files, even to root.
        let err = kobai::model::save_npz(&net(), std::path::Path::new("/proc/kobai-w.npz"));
        is(err.unwrap_err(), "Io", "/proc/kobai-w.npz");
    }
}
