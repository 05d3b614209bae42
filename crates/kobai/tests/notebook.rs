//! Every number the notebook prints, asserted. Each assertion quotes the cell
//! it checks; where the notebook prints rounded digits, the exact value comes
//! from `tests/reference/notebook_numpy.py` (NumPy 2.4.6 running the book's code).

use kobai::notebook::{self, Replay};
use kobai::{SimpleNet, function_2, gradient_descent, numerical_gradient};
use ndarray::{Array1, array};

fn replay() -> Replay {
    notebook::replay().expect("the notebook's fixed inputs are valid")
}

/// Rounds to NumPy's 8 printed decimals.
fn printed(v: f64) -> f64 {
    (v * 1e8).round() / 1e8
}

#[test]
fn numerical_diff_matches_the_books_gradient_1d() {
    // ch04/gradient_1d.py (section 4.3, before the notebook):
    //   print(numerical_diff(function_1, 5))   → 0.1999999999990898
    //   print(numerical_diff(function_1, 10))  → 0.2999999999986347
    let at = |x| kobai::numerical_diff(kobai::function_1, x).expect("finite");
    assert_eq!(at(5.0), 0.1999999999990898);
    assert_eq!(at(10.0), 0.2999999999986347);
}

#[test]
fn in6_gradients_are_bit_for_bit() {
    // In[6]: print(numerical_gradient(function_2, np.array([3.0, 4.0])))  → [6. 8.]
    //        print(numerical_gradient(function_2, np.array([0.0, 2.0])))  → [0. 4.]
    //        print(numerical_gradient(function_2, np.array([3.0, 0.0])))  → [6. 0.]
    // Exact values: repr(list(numerical_gradient(...))) in NumPy.
    let r = replay();
    assert_eq!(
        r.in6_gradients[0],
        array![6.00000000000378, 7.999999999999119]
    );
    assert_eq!(r.in6_gradients[1], array![0.0, 4.000000000004]);
    assert_eq!(r.in6_gradients[2], array![6.000000000012662, 0.0]);
}

#[test]
fn in6_leaves_the_point_untouched() {
    let x = array![3.0, 4.0];
    let before = x.clone();
    numerical_gradient(function_2, &x).expect("valid input");
    assert_eq!(x, before);
}

#[test]
fn in8_descent_is_bit_for_bit() {
    // In[8]: gradient_descent(function_2, init_x=init_x, lr=0.1, step_num=100)
    //        → array([-6.11110793e-10,  8.14814391e-10])
    assert_eq!(
        replay().in8_descent,
        array![-6.111107928998789e-10, 8.148143905314271e-10]
    );
}

#[test]
fn in9_chained_reproduces_the_notebook() {
    // In[9]: print(gradient_descent(function_2, init_x=init_x, lr=10.0, step_num=100))
    //        print(gradient_descent(function_2, init_x=init_x, lr=1e-10, step_num=100))
    //        → [ 2.34235971e+12 -3.96091057e+12] twice: init_x was changed in place by
    //        In[8] and by the first call, and x froze once |x| > 2^40.
    let r = replay();
    let expected = array![2342359711530.595, -3960910565406.869];
    assert_eq!(r.in9_chained[0], expected);
    assert_eq!(r.in9_chained[1], expected);
    // Frozen: the central difference there is exactly zero.
    let grad = numerical_gradient(function_2, &expected).expect("finite");
    assert_eq!(grad, array![0.0, 0.0]);
}

#[test]
fn in9_from_a_fresh_start() {
    // notebook_numpy.py: gradient_descent(function_2, init_x=np.array([-3.0, 4.0]), lr=10.0)
    //   → [-25898374737328.363, -1295248616896.5398]   (about [-2.58983747e+13, -1.29524862e+12])
    //   and lr=1e-10 → [-2.999999939999995, 3.9999999199999934]   (about [-2.99999994, 3.99999992])
    let r = replay();
    assert_eq!(
        r.in9_fresh[0],
        array![-25898374737328.363, -1295248616896.5398]
    );
    assert_eq!(
        r.in9_fresh[1],
        array![-2.999999939999995, 3.9999999199999934]
    );
}

#[test]
fn in9_leaves_init_x_untouched() {
    let init_x = array![-3.0, 4.0];
    let first = gradient_descent(function_2, &init_x, 10.0, 100).expect("valid");
    let second = gradient_descent(function_2, &init_x, 10.0, 100).expect("valid");
    assert_eq!(init_x, array![-3.0, 4.0]);
    assert_eq!(first, second);
}

#[test]
fn in12_weights_are_the_printed_matrix() {
    // In[12]: print(net.W) → [[ 0.42875037 -1.09670346  0.24866542]
    //                         [-2.38228839  0.47330153 -0.20017261]]
    let w = replay().in12_w;
    assert_eq!(
        w,
        array![
            [0.42875037, -1.09670346, 0.24866542],
            [-2.38228839, 0.47330153, -0.20017261]
        ]
    );
}

#[test]
fn in13_prediction() {
    // In[13]: p = net.predict(x); print(p) → [-1.88680933 -0.23205069 -0.0309561 ]
    // The notebook's W had more digits than it printed; from the printed W NumPy gives
    // repr(list(np.dot(x, W))) → [-1.8868093289999999, -0.23205069900000003, -0.030956096999999988]
    let p = replay().in13_p;
    let notebook = array![-1.88680933, -0.23205069, -0.0309561];
    for (a, b) in p.iter().zip(&notebook) {
        assert!((a - b).abs() < 1e-8, "{a} vs the notebook's {b}");
    }
    assert_eq!(
        p,
        array![
            -1.8868093289999999,
            -0.23205069900000003,
            -0.030956096999999988
        ]
    );
}

#[test]
fn in14_loss() {
    // In[14]: net.loss(x, t) → 0.6801400453747255 (with the notebook's unprinted W digits);
    // from the printed W, NumPy gives 0.6801400424618705.
    let loss = replay().in14_loss;
    assert!((loss - 0.6801400453747255).abs() < 3e-9, "{loss}");
    assert!((loss - 0.6801400424618705).abs() < 1e-15, "{loss}");
}

#[test]
fn in15_dw_matches_every_printed_digit() {
    // In[15]: dW = numerical_gradient(f, net.W); print(dW)
    //   → [[ 0.0475098   0.24856257 -0.29607237]
    //      [ 0.0712647   0.37284386 -0.44410856]]
    let dw = replay().in15_dw;
    let printed_dw = array![
        [0.0475098, 0.24856257, -0.29607237],
        [0.0712647, 0.37284386, -0.44410856]
    ];
    for (a, b) in dw.iter().zip(&printed_dw) {
        assert_eq!(printed(*a), *b, "{a} does not print as {b}");
    }
    // repr(dW.tolist()) from the printed W in NumPy; the loss goes through exp and log,
    // whose last bits may differ between libms, so compare to 1e-12.
    let numpy = array![
        [
            0.04750979909040609,
            0.24856257283323302,
            -0.29607237188644664
        ],
        [0.07126469867557716, 0.37284385927705, -0.44410855783216796]
    ];
    for (a, b) in dw.iter().zip(&numpy) {
        assert!((a - b).abs() < 1e-12, "{a} vs NumPy's {b}");
    }
}

#[test]
fn in15_does_not_touch_the_network() {
    let net = SimpleNet::from_weights(notebook::printed_w()).expect("finite weights");
    let before = net.clone();
    let x = Array1::from(notebook::X.to_vec());
    net.numerical_gradient(&x, &[2]).expect("valid input");
    assert_eq!(net, before);
}
