//! A Pratt (precedence-climbing) parser that emits the postfix program
//! directly, token by token.
//!
//! Binding powers, loosest first: `+ -` (left), `* /` (left), unary `-` and
//! `+`, `^` (right). Unary minus binds looser than `^`, so `-2^2` is `-(2^2)`,
//! and its operand may itself start with a sign, so `2^-1` and `2*-3` read as
//! in Python.

use super::lexer::{Kind, Token, tokenize};
use super::program::{Binary, Op, Program, Unary};
use super::syntax_error;
use crate::error::{KobaiError, Result};

/// How deeply parentheses, signs and powers may nest.
pub(super) const MAX_NESTING: usize = 100;

/// What follows the name of a function.
#[derive(Clone, Copy)]
enum Function {
    One(Unary),
    Two(Binary),
}

/// The functions, in the order error messages list them.
const FUNCTIONS: [(&str, Function); 11] = [
    ("exp", Function::One(Unary::Exp)),
    ("log", Function::One(Unary::Log)),
    ("sqrt", Function::One(Unary::Sqrt)),
    ("sin", Function::One(Unary::Sin)),
    ("cos", Function::One(Unary::Cos)),
    ("tan", Function::One(Unary::Tan)),
    ("tanh", Function::One(Unary::Tanh)),
    ("abs", Function::One(Unary::Abs)),
    ("pow", Function::Two(Binary::Pow)),
    ("min", Function::Two(Binary::Min)),
    ("max", Function::Two(Binary::Max)),
];

/// Signs bind tighter than `*` and looser than `^`.
const PREFIX_POWER: u8 = 5;

/// Left and right binding power of an infix operator.
fn infix_power(kind: Kind) -> Option<(u8, u8, Binary)> {
    match kind {
        Kind::Plus => Some((1, 2, Binary::Add)),
        Kind::Minus => Some((1, 2, Binary::Sub)),
        Kind::Star => Some((3, 4, Binary::Mul)),
        Kind::Slash => Some((3, 4, Binary::Div)),
        // Right-associative: the right side may hold another `^`.
        Kind::Caret => Some((8, 7, Binary::Pow)),
        _ => None,
    }
}

/// Parses `source` into a program.
pub(super) fn parse(source: &str) -> Result<Program> {
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        source,
        tokens,
        next: 0,
        ops: Vec::new(),
        nesting: 0,
    };
    if parser.peek().kind == Kind::End {
        return Err(syntax_error(
            source,
            1,
            "the formula is empty; expected an expression such as x0^2 + x1^2".into(),
        ));
    }
    parser.expression(0)?;
    let token = parser.peek();
    match token.kind {
        Kind::End => Ok(Program::new(parser.ops)),
        Kind::Close => Err(parser.error(&token, "')' has no matching '('".into())),
        _ => Err(parser.expected_operator(&token, "")),
    }
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token<'a>>,
    /// Index of the next token to read.
    next: usize,
    ops: Vec<Op>,
    nesting: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Token<'a> {
        self.tokens[self.next]
    }

    fn advance(&mut self) -> Token<'a> {
        let token = self.tokens[self.next];
        if token.kind != Kind::End {
            self.next += 1;
        }
        token
    }

    fn error(&self, token: &Token<'_>, message: String) -> KobaiError {
        syntax_error(self.source, token.column, message)
    }

    /// Parses an expression whose operators bind at least as tightly as `min_power`.
    fn expression(&mut self, min_power: u8) -> Result<()> {
        self.operand()?;
        while let Some((left, right, op)) = infix_power(self.peek().kind) {
            if left < min_power {
                break;
            }
            let token = self.advance();
            if op == Binary::Pow {
                self.nested(&token, |p| p.expression(right))?;
            } else {
                self.expression(right)?;
            }
            self.emit_binary(op);
        }
        Ok(())
    }

    /// Runs `parse` one level deeper (inside parentheses, after a sign, in an
    /// exponent): the limit keeps the recursion far from a stack overflow.
    fn nested(
        &mut self,
        at: &Token<'_>,
        parse: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error(
                at,
                format!(
                    "the formula nests more than {MAX_NESTING} levels deep \
                     (parentheses, signs and powers)"
                ),
            ));
        }
        parse(self)?;
        self.nesting -= 1;
        Ok(())
    }

    /// A number, a name, a call, a parenthesised expression or a signed operand.
    fn operand(&mut self) -> Result<()> {
        let token = self.advance();
        match token.kind {
            Kind::Number(value) => self.ops.push(Op::Const(value)),
            Kind::Name if self.peek().kind == Kind::Open => self.call(&token)?,
            Kind::Name => self.name(&token)?,
            Kind::Minus | Kind::Plus => {
                self.nested(&token, |p| p.expression(PREFIX_POWER))?;
                if token.kind == Kind::Minus {
                    self.ops.push(Op::Unary(Unary::Neg));
                }
            }
            Kind::Open => self.nested(&token, |p| {
                p.expression(0)?;
                p.close(&token, "an operator or ')'")
            })?,
            Kind::End => return Err(self.missing_operand()),
            _ => {
                return Err(self.error(
                    &token,
                    format!(
                        "expected a number, a variable, a function or '(', found {}",
                        token.quoted()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Emits `op`, turning `… 2 ^` into the exact and cheaper `… square`.
    fn emit_binary(&mut self, op: Binary) {
        if op == Binary::Pow && self.ops.last() == Some(&Op::Const(2.0)) {
            self.ops.pop();
            self.ops.push(Op::Unary(Unary::Square));
        } else {
            self.ops.push(Op::Binary(op));
        }
    }

    /// Consumes the `)` that closes `open`.
    fn close(&mut self, open: &Token<'_>, expected: &str) -> Result<()> {
        let token = self.advance();
        match token.kind {
            Kind::Close => Ok(()),
            Kind::End => Err(self.error(open, "this '(' is never closed".into())),
            _ => Err(self.expected_operator(&token, expected)),
        }
    }

    /// The formula ended where an operand was needed.
    fn missing_operand(&self) -> KobaiError {
        let last = self.next.checked_sub(1).map(|i| self.tokens[i]);
        match last {
            Some(
                op @ Token {
                    kind: Kind::Open, ..
                },
            ) => self.error(&op, "this '(' is never closed".into()),
            Some(op) => self.error(
                &op,
                format!(
                    "{} at the end has nothing after it; expected a number, a variable, \
                     a function or '('",
                    op.quoted()
                ),
            ),
            None => syntax_error(self.source, 1, "the formula is empty".into()),
        }
    }

    /// `found` stands where an operator (or `also`) should.
    fn expected_operator(&self, found: &Token<'_>, also: &str) -> KobaiError {
        let expected = if also.is_empty() { "an operator" } else { also };
        let previous = self.tokens[..self.next]
            .iter()
            .rev()
            .find(|t| t.column < found.column);
        let product = matches!(found.kind, Kind::Name | Kind::Number(_) | Kind::Open)
            && previous
                .is_some_and(|p| matches!(p.kind, Kind::Name | Kind::Number(_) | Kind::Close));
        let hint = match previous {
            Some(p) if product => format!(" (write {}*{} for a product)", p.text, found.text),
            _ => String::new(),
        };
        self.error(
            found,
            format!("expected {expected}, found {}{hint}", found.quoted()),
        )
    }

    /// A variable or a constant.
    fn name(&mut self, token: &Token<'_>) -> Result<()> {
        let op = match token.text {
            "pi" => Op::Const(std::f64::consts::PI),
            "e" => Op::Const(std::f64::consts::E),
            "x" => Op::Var(0),
            "y" => Op::Var(1),
            name => match variable_index(name) {
                Some(i) => Op::Var(i),
                None if function(name).is_some() => {
                    return Err(self.error(
                        token,
                        format!("function '{name}' needs its argument in parentheses: {name}(…)"),
                    ));
                }
                None => {
                    let hint = if name == "ln" {
                        " (log is the natural logarithm)"
                    } else {
                        ""
                    };
                    return Err(self.error(
                        token,
                        format!(
                            "unknown variable '{name}'{hint}; expected x0, x1, x2, … \
                             (x and y for x0 and x1) or a constant, pi or e"
                        ),
                    ));
                }
            },
        };
        self.ops.push(op);
        Ok(())
    }

    /// `name(arguments)`, with the right number of arguments.
    fn call(&mut self, name: &Token<'_>) -> Result<()> {
        let Some(function) = function(name.text) else {
            let is_value =
                matches!(name.text, "pi" | "e" | "x" | "y") || variable_index(name.text).is_some();
            let message = if is_value {
                format!(
                    "'{0}' is not a function; write {0}*(…) for a product",
                    name.text
                )
            } else {
                let hint = if name.text == "ln" {
                    " (log is the natural logarithm)"
                } else {
                    ""
                };
                let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown function '{}'{hint}; expected one of {}",
                    name.text,
                    names.join(", ")
                )
            };
            return Err(self.error(name, message));
        };
        let open = self.advance();
        let mut count = 0;
        self.nested(&open, |p| {
            if p.peek().kind == Kind::Close {
                p.advance();
                return Ok(());
            }
            loop {
                p.expression(0)?;
                count += 1;
                if p.peek().kind == Kind::Comma {
                    p.advance();
                } else {
                    return p.close(&open, "',' or ')'");
                }
            }
        })?;
        let (wanted, usage, op) = match function {
            Function::One(f) => (1, "(x)", Op::Unary(f)),
            Function::Two(f) => (2, "(a, b)", Op::Binary(f)),
        };
        if count != wanted {
            let plural = if wanted == 1 { "" } else { "s" };
            return Err(self.error(
                name,
                format!(
                    "{0} takes {wanted} argument{plural}, as in {0}{usage}, but was given {count}",
                    name.text
                ),
            ));
        }
        match op {
            Op::Binary(f) => self.emit_binary(f),
            op => self.ops.push(op),
        }
        Ok(())
    }
}

fn function(name: &str) -> Option<Function> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// `Some(i)` for `x<i>`, `i` written without leading zeros.
fn variable_index(name: &str) -> Option<usize> {
    let digits = name.strip_prefix('x')?;
    let canonical = digits == "0" || (!digits.is_empty() && !digits.starts_with('0'));
    if !canonical || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok().filter(|&i| i < usize::MAX)
}
