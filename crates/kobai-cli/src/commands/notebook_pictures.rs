//! The notebook's two pictures: the gradient field of `function_2` (the seed's
//! image, the book's figure 4-9) and the gradient-descent path from (-3, 4)
//! (figure 4-10).

use std::path::{Path, PathBuf};

use anyhow::Result;
use kobai::{function_2, gradient_descent_path, numerical_gradient};
use ndarray::{Array1, Array2, array};

use crate::plot::{FieldSpec, PathSpec, draw_descent_path, draw_gradient_field};

/// Draws both pictures into `out` and returns the four files written.
pub fn draw_notebook_pictures(out: &Path) -> Result<Vec<PathBuf>> {
    let mut files = draw_gradient_field(&out.join("gradient_field"), &field_spec()?)?;
    let path = descent_points()?;
    let f = |x0: f64, x1: f64| x0 * x0 + x1 * x1;
    let spec = PathSpec {
        title: "Gradient descent on f(x0, x1) = x0² + x1², lr = 0.1".into(),
        x_label: "x0".into(),
        y_label: "x1".into(),
        path,
        function: &f,
        x_range: (-3.5, 3.5),
        y_range: (-4.5, 4.5),
    };
    files.extend(draw_descent_path(&out.join("gradient_descent"), &spec)?);
    Ok(files)
}

/// The book's `gradient_2d.py` grid: x0, x1 in `np.arange(-2, 2.5, 0.25)`, and
/// at each point the arrow −∇f, ∇f by kobai's numerical gradient.
fn field_spec() -> Result<FieldSpec> {
    let grid: Vec<f64> = (0..18).map(|i| -2.0 + 0.25 * f64::from(i)).collect();
    let mut vectors = Array2::from_elem((grid.len(), grid.len()), (0.0, 0.0));
    for ((iy, ix), v) in vectors.indexed_iter_mut() {
        let grad = numerical_gradient(function_2, &array![grid[ix], grid[iy]])?;
        *v = (-grad[0], -grad[1]);
    }
    Ok(FieldSpec {
        title: "−∇f for f(x0, x1) = x0² + x1²".into(),
        x_label: "x0".into(),
        y_label: "x1".into(),
        xs: grid.clone(),
        ys: grid,
        vectors,
        x_range: (-2.0, 2.0),
        y_range: (-2.0, 2.0),
    })
}

/// The book's `gradient_method.py`: 20 steps from (-3, 4) with lr = 0.1.
fn descent_points() -> Result<Vec<(f64, f64)>> {
    let init_x: Array1<f64> = array![-3.0, 4.0];
    let path = gradient_descent_path(function_2, &init_x, 0.1, 20)?;
    Ok(path.iter().map(|x| (x[0], x[1])).collect())
}
