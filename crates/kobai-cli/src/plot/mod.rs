//! Pictures: gradient fields (quiver plots) and descent paths over contour
//! lines, each written as a PNG and an SVG from one drawing routine.

mod arrow;
mod clip;
pub mod contour;
mod curves;
mod field;
mod filters;
mod font;
mod frame;
mod grid;
mod legend;
mod metrics;
mod panels;
mod path;
mod polyline;
mod render;
mod text;
mod thin;
mod ticks;
mod validate;

pub use curves::{AccuracyPoint, CurvesSpec, draw_training_curves};
pub use field::{FieldSpec, draw_gradient_field};
pub use filters::{FilterPanel, FilterSpec, draw_filters};
pub use grid::{GridSpec, PALETTE, Panel, Series, Shape, draw_grid, histogram};
pub use panels::draw_descent_panels;
pub use path::{PathSpec, draw_descent_path};
pub use thin::ThinPath;
