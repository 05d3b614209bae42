//! Forward-mode dual numbers `v + d·ε` (ε² = 0): running the program on them
//! carries the exact derivative along with the value.

use super::program::{Binary, Scalar, Unary};

/// A value and its derivative along one direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Dual {
    /// The value.
    pub v: f64,
    /// The derivative.
    pub d: f64,
}

impl Dual {
    /// `f(v)` with derivative `f'(v) · d` — the chain rule. A zero tangent
    /// stays zero even where `f'` is infinite (`sqrt` at 0 of a constant).
    fn chain(self, value: f64, slope: impl FnOnce() -> f64) -> Dual {
        let d = if self.d == 0.0 { 0.0 } else { slope() * self.d };
        Dual { v: value, d }
    }
}

impl Scalar for Dual {
    fn constant(value: f64) -> Self {
        Dual { v: value, d: 0.0 }
    }

    fn unary(self, f: Unary) -> Self {
        let a = self.v;
        match f {
            Unary::Neg => Dual { v: -a, d: -self.d },
            Unary::Square => self.chain(a * a, || 2.0 * a),
            Unary::Exp => {
                let v = a.exp();
                self.chain(v, || v)
            }
            Unary::Log => self.chain(a.ln(), || 1.0 / a),
            Unary::Sqrt => {
                let v = a.sqrt();
                self.chain(v, || 0.5 / v)
            }
            Unary::Sin => self.chain(a.sin(), || a.cos()),
            Unary::Cos => self.chain(a.cos(), || -a.sin()),
            Unary::Tan => {
                let v = a.tan();
                self.chain(v, || 1.0 + v * v)
            }
            Unary::Tanh => {
                let v = a.tanh();
                self.chain(v, || 1.0 - v * v)
            }
            // The subgradient 0 at the kink, where the central difference also gives 0.
            Unary::Abs => self.chain(a.abs(), || sign(a)),
        }
    }

    fn binary(self, f: Binary, rhs: Self) -> Self {
        let (a, b) = (self, rhs);
        match f {
            Binary::Add => Dual {
                v: a.v + b.v,
                d: a.d + b.d,
            },
            Binary::Sub => Dual {
                v: a.v - b.v,
                d: a.d - b.d,
            },
            Binary::Mul => Dual {
                v: a.v * b.v,
                d: a.d * b.v + a.v * b.d,
            },
            Binary::Div => {
                let v = a.v / b.v;
                Dual {
                    v,
                    d: (a.d - v * b.d) / b.v,
                }
            }
            Binary::Pow => pow(a, b),
            // At a tie, the first argument's derivative.
            Binary::Min => {
                if b.v < a.v {
                    b
                } else {
                    a
                }
            }
            Binary::Max => {
                if b.v > a.v {
                    b
                } else {
                    a
                }
            }
        }
    }
}

/// `a^b`: `b·a^(b−1)·a'` + `a^b·ln(a)·b'`, each term only when its tangent is
/// non-zero, so that `x^2` at negative `x` (no logarithm needed) and `2^x`
/// (no `b·a^(b−1)` needed) stay finite.
fn pow(a: Dual, b: Dual) -> Dual {
    let v = a.v.powf(b.v);
    let mut d = 0.0;
    if a.d != 0.0 {
        d += b.v * a.v.powf(b.v - 1.0) * a.d;
    }
    if b.d != 0.0 {
        d += v * a.v.ln() * b.d;
    }
    Dual { v, d }
}

fn sign(a: f64) -> f64 {
    if a > 0.0 {
        1.0
    } else if a < 0.0 {
        -1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(v: f64) -> Dual {
        Dual { v, d: 1.0 }
    }

    #[test]
    fn chain_rule_cases() {
        assert_eq!(var(3.0).unary(Unary::Square), Dual { v: 9.0, d: 6.0 });
        assert_eq!(var(-2.0).unary(Unary::Abs).d, -1.0);
        assert_eq!(var(0.0).unary(Unary::Abs).d, 0.0);
        assert_eq!(Dual::constant(0.0).unary(Unary::Sqrt).d, 0.0);
        let quotient = var(1.0).binary(Binary::Div, Dual::constant(4.0));
        assert_eq!(quotient, Dual { v: 0.25, d: 0.25 });
    }

    #[test]
    fn pow_skips_terms_without_tangent() {
        // x^3 at x = -2: 3·(-2)² = 12, although ln(-2) is NaN.
        let cube = var(-2.0).binary(Binary::Pow, Dual::constant(3.0));
        assert_eq!(cube, Dual { v: -8.0, d: 12.0 });
        // 2^x at x = 3: 8·ln 2.
        let exp2 = Dual::constant(2.0).binary(Binary::Pow, var(3.0));
        assert!((exp2.d - 8.0 * 2f64.ln()).abs() < 1e-15);
    }
}
