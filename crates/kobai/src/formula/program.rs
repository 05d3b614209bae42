//! The compiled formula: a flat postfix program run on a small value stack.
//!
//! The program is generic over the number it computes with ([`Scalar`]): `f64`
//! for values, [`Dual`](super::dual::Dual) for exact derivatives. The stack
//! lives in an array on the machine stack when it is small enough (always, for
//! formulas people write), so a run allocates nothing.

/// A function of one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unary {
    Neg,
    /// `a^2`, compiled from `^ 2` (exact, and faster than `powf`).
    Square,
    Exp,
    Log,
    Sqrt,
    Sin,
    Cos,
    Tan,
    Tanh,
    Abs,
}

/// A function of two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Min,
    Max,
}

/// One instruction of the program.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Op {
    /// Push a constant.
    Const(f64),
    /// Push the variable `x_i`.
    Var(usize),
    /// Replace the top value `a` by `f(a)`.
    Unary(Unary),
    /// Pop `b`, replace the top value `a` by `f(a, b)`.
    Binary(Binary),
}

/// A number the program can compute with.
pub(super) trait Scalar: Copy {
    /// A number with no dependence on the variables.
    fn constant(value: f64) -> Self;
    /// `f(self)`.
    fn unary(self, f: Unary) -> Self;
    /// `f(self, rhs)`.
    fn binary(self, f: Binary, rhs: Self) -> Self;
}

impl Scalar for f64 {
    fn constant(value: f64) -> Self {
        value
    }

    fn unary(self, f: Unary) -> Self {
        match f {
            Unary::Neg => -self,
            Unary::Square => self * self,
            Unary::Exp => self.exp(),
            Unary::Log => self.ln(),
            Unary::Sqrt => self.sqrt(),
            Unary::Sin => self.sin(),
            Unary::Cos => self.cos(),
            Unary::Tan => self.tan(),
            Unary::Tanh => self.tanh(),
            Unary::Abs => self.abs(),
        }
    }

    fn binary(self, f: Binary, rhs: Self) -> Self {
        match f {
            Binary::Add => self + rhs,
            Binary::Sub => self - rhs,
            Binary::Mul => self * rhs,
            Binary::Div => self / rhs,
            Binary::Pow => self.powf(rhs),
            Binary::Min => self.min(rhs),
            Binary::Max => self.max(rhs),
        }
    }
}

/// Stack sizes kept on the machine stack; deeper programs use a `Vec`.
const SMALL_STACK: usize = 8;
const LARGE_STACK: usize = 64;

/// A postfix program that leaves exactly one value on the stack.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Program {
    ops: Vec<Op>,
    /// 1 + the highest variable index (0 without variables).
    arity: usize,
    /// The most values on the stack at once.
    depth: usize,
}

impl Program {
    /// Wraps a well-formed postfix program (the parser's output).
    pub fn new(ops: Vec<Op>) -> Self {
        let arity = ops
            .iter()
            .filter_map(|op| match op {
                Op::Var(i) => Some(i + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let (mut len, mut depth) = (0usize, 0);
        for op in &ops {
            match op {
                Op::Const(_) | Op::Var(_) => len += 1,
                Op::Unary(_) => {}
                Op::Binary(_) => len -= 1,
            }
            depth = depth.max(len);
        }
        debug_assert_eq!(len, 1, "a program leaves one value: {ops:?}");
        Program { ops, arity, depth }
    }

    /// 1 + the highest variable index used.
    pub fn arity(&self) -> usize {
        self.arity
    }

    /// Runs the program with `var(i)` as the value of `x_i`. `var` is only
    /// asked for indices below [`arity`](Self::arity).
    pub fn run<N: Scalar>(&self, var: impl Fn(usize) -> N) -> N {
        let zero = N::constant(0.0);
        if self.depth <= SMALL_STACK {
            self.run_on(&mut [zero; SMALL_STACK], var)
        } else if self.depth <= LARGE_STACK {
            self.run_on(&mut [zero; LARGE_STACK], var)
        } else {
            self.run_on(&mut vec![zero; self.depth], var)
        }
    }

    /// The top of the stack lives in a local (a register), the values below
    /// it in `stack[..len]`; `stack[0]` holds a placeholder pushed by the
    /// first push, so `stack` needs `depth` slots.
    fn run_on<N: Scalar>(&self, stack: &mut [N], var: impl Fn(usize) -> N) -> N {
        let mut top = N::constant(0.0);
        let mut len = 0;
        for op in &self.ops {
            match *op {
                Op::Const(c) => {
                    stack[len] = top;
                    len += 1;
                    top = N::constant(c);
                }
                Op::Var(i) => {
                    stack[len] = top;
                    len += 1;
                    top = var(i);
                }
                Op::Unary(f) => top = top.unary(f),
                Op::Binary(f) => {
                    len -= 1;
                    top = stack[len].binary(f, top);
                }
            }
        }
        top
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arity_and_depth() {
        // x1 * (x0 + 2): x1 x0 2 + *
        let p = Program::new(vec![
            Op::Var(1),
            Op::Var(0),
            Op::Const(2.0),
            Op::Binary(Binary::Add),
            Op::Binary(Binary::Mul),
        ]);
        assert_eq!((p.arity(), p.depth), (2, 3));
        assert_eq!(p.run(|i| [3.0, 4.0][i]), 20.0);
        assert_eq!(Program::new(vec![Op::Const(1.5)]).arity(), 0);
    }

    #[test]
    fn deep_programs_run_on_a_heap_stack() {
        // 1 + (1 + (1 + …)): 100 ones pushed before the first addition.
        let mut ops = vec![Op::Const(1.0); 100];
        ops.extend(std::iter::repeat_n(Op::Binary(Binary::Add), 99));
        let p = Program::new(ops);
        assert_eq!(p.depth, 100);
        assert_eq!(p.run(|_| 0.0), 100.0);
    }
}
