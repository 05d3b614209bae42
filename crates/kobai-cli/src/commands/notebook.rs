//! `kobai notebook`: the notebook's cells, replayed, printed as NumPy prints them.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use kobai::notebook::{IN9_LEARNING_RATES, Replay, replay};
use kobai::numpy_style::{numpy_repr, numpy_str, py_float_repr};
use ndarray::{Array1, Array2};
use serde_json::{Value, json};

use super::notebook_pictures::draw_notebook_pictures;
use crate::output_paths::ensure_out_dir;

/// Options of `kobai notebook`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for the pictures (created if missing).
    #[arg(long, value_name = "DIR", default_value = "kobai-out")]
    out: PathBuf,
    /// Print the numbers as one JSON object, for scripts.
    #[arg(long)]
    json: bool,
    /// Skip the pictures.
    #[arg(long)]
    no_plots: bool,
}

/// Replays the notebook, draws its two pictures, prints the cells.
pub fn run(args: &Args) -> Result<()> {
    if !args.no_plots {
        ensure_out_dir(&args.out)?;
    }
    let replay = replay()?;
    let pictures = if args.no_plots {
        Vec::new()
    } else {
        draw_notebook_pictures(&args.out)?
    };
    if args.json {
        outln!("{}", as_json(&replay, &pictures));
    } else {
        out!("{}", as_text(&replay, &pictures));
    }
    Ok(())
}

/// The replay as a reader compares it with the notebook: each cell's code, then its output.
fn as_text(r: &Replay, pictures: &[PathBuf]) -> String {
    let mut s = String::from(
        "kobai replays section 4.4 \"Gradients\" of Deep Learning from Scratch, cell by cell.\n",
    );
    let mut cell = |number: u32, code: &[&str], output: &str| {
        let prompt = format!("In [{number}]: ");
        let indent = format!("\n{:width$}", "", width = prompt.len());
        let _ = write!(s, "\n{prompt}{}\n", code.join(&indent));
        s.push_str(output);
        s.push('\n');
    };
    let in6: Vec<String> = r.in6_gradients.iter().map(|g| numpy_str(g)).collect();
    cell(
        6,
        &[
            "print(numerical_gradient(function_2, np.array([3.0, 4.0])))",
            "print(numerical_gradient(function_2, np.array([0.0, 2.0])))",
            "print(numerical_gradient(function_2, np.array([3.0, 0.0])))",
        ],
        &in6.join("\n"),
    );
    cell(
        8,
        &[
            "init_x = np.array([-3.0, 4.0])",
            "gradient_descent(function_2, init_x=init_x, lr=0.1, step_num=100)",
        ],
        &numpy_repr(&r.in8_descent),
    );
    cell(
        9,
        &[
            "print(gradient_descent(function_2, init_x=init_x, lr=10.0, step_num=100))",
            "print(gradient_descent(function_2, init_x=init_x, lr=1e-10, step_num=100))",
        ],
        &in9_text(r),
    );
    cell(
        12,
        &[
            "net = simpleNet()   # W: the matrix the notebook printed (it never seeded NumPy)",
            "print(net.W)",
        ],
        &numpy_str(&r.in12_w),
    );
    cell(
        13,
        &["x = np.array([0.6, 0.9])", "p = net.predict(x)", "print(p)"],
        &numpy_str(&r.in13_p),
    );
    let loss = format!(
        "{}\n# the notebook shows 0.6801400453747255: its W had more digits than it printed",
        py_float_repr(r.in14_loss)
    );
    cell(14, &["t = np.array([0, 0, 1])", "net.loss(x, t)"], &loss);
    cell(
        15,
        &[
            "def f(W): return net.loss(x, t)",
            "dW = numerical_gradient(f, net.W)",
            "print(dW)",
        ],
        &numpy_str(&r.in15_dw),
    );
    if !pictures.is_empty() {
        let names: Vec<String> = pictures.iter().map(|p| p.display().to_string()).collect();
        let _ = write!(s, "\nPictures: {}\n", names.join(", "));
    }
    s
}

/// In\[9\] as the notebook printed it, then the fresh-start values and why they differ.
fn in9_text(r: &Replay) -> String {
    let [big, small] = IN9_LEARNING_RATES.map(py_float_repr);
    format!(
        "{}\n{}\n# Both calls continued from init_x, which the notebook's gradient_descent had changed in\n\
         # place (In[8] left it near 0). With lr=10.0 each step multiplied x by -19 until |x| passed\n\
         # 2^40 ~ 1.1e12, where x + 1e-4 rounds back to x: the gradient was exactly 0 and x froze.\n\
         # kobai returns a new array; from a fresh init_x = [-3.0, 4.0] the two calls give:\n\
         # lr={big:<6} {}\n# lr={small:<6} {}",
        numpy_str(&r.in9_chained[0]),
        numpy_str(&r.in9_chained[1]),
        numpy_str(&r.in9_fresh[0]),
        numpy_str(&r.in9_fresh[1]),
    )
}

/// Every number of the replay as one JSON object (shortest round-trip digits).
fn as_json(r: &Replay, pictures: &[PathBuf]) -> Value {
    json!({
        "in6_gradients": r.in6_gradients.iter().map(vector).collect::<Vec<_>>(),
        "in8_descent": vector(&r.in8_descent),
        "in9": {
            "learning_rates": IN9_LEARNING_RATES,
            "chained": r.in9_chained.iter().map(vector).collect::<Vec<_>>(),
            "fresh": r.in9_fresh.iter().map(vector).collect::<Vec<_>>(),
        },
        "in12_w": matrix(&r.in12_w),
        "in13_p": vector(&r.in13_p),
        "in14_loss": r.in14_loss,
        "in15_dw": matrix(&r.in15_dw),
        "pictures": pictures.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    })
}

fn vector(v: &Array1<f64>) -> Value {
    json!(v.to_vec())
}

fn matrix(m: &Array2<f64>) -> Value {
    json!(
        m.rows()
            .into_iter()
            .map(|row| row.to_vec())
            .collect::<Vec<_>>()
    )
}
