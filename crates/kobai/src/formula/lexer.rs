//! Splits a formula into tokens, each with the column where it starts.

use super::syntax_error;
use crate::error::Result;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    /// A number literal, already read.
    Number(f64),
    /// A name: a variable, a constant or a function.
    Name,
    Plus,
    Minus,
    Star,
    Slash,
    /// `^`, or Python's `**`.
    Caret,
    Open,
    Close,
    Comma,
    /// After the last character.
    End,
}

/// A token of the formula.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token<'a> {
    pub kind: Kind,
    /// The characters it was read from (empty for [`Kind::End`]).
    pub text: &'a str,
    /// 1-based column (in characters) of its first character.
    pub column: usize,
}

impl Token<'_> {
    /// The token as error messages quote it.
    pub fn quoted(&self) -> String {
        match self.kind {
            Kind::End => "the end of the formula".into(),
            _ => format!("'{}'", self.text),
        }
    }
}

/// The tokens of `source`, ending with one [`Kind::End`].
pub(super) fn tokenize(source: &str) -> Result<Vec<Token<'_>>> {
    let mut tokens = Vec::new();
    let (mut at, mut column) = (0, 1);
    while let Some(c) = source[at..].chars().next() {
        let start = at;
        let mut end = start + c.len_utf8();
        let kind = match c {
            c if c.is_whitespace() => None,
            '+' => Some(Kind::Plus),
            '-' | '\u{2212}' => Some(Kind::Minus),
            '*' if source[end..].starts_with('*') => {
                end += 1;
                Some(Kind::Caret)
            }
            '*' | '\u{d7}' => Some(Kind::Star),
            '/' => Some(Kind::Slash),
            '^' => Some(Kind::Caret),
            '(' => Some(Kind::Open),
            ')' => Some(Kind::Close),
            ',' => Some(Kind::Comma),
            c if c.is_ascii_alphabetic() || c == '_' => {
                end = start + name_len(&source[start..]);
                Some(Kind::Name)
            }
            c if c.is_ascii_digit() || (c == '.' && next_is_digit(source, end)) => {
                end = number_end(source, start);
                Some(number(source, start..end, column)?)
            }
            other => return Err(unexpected_character(source, column, other)),
        };
        if let Some(kind) = kind {
            tokens.push(Token {
                kind,
                text: &source[start..end],
                column,
            });
        }
        column += source[start..end].chars().count();
        at = end;
    }
    tokens.push(Token {
        kind: Kind::End,
        text: "",
        column,
    });
    Ok(tokens)
}

/// The length in bytes of the name at the start of `rest`: ASCII letters,
/// digits and `_`.
fn name_len(rest: &str) -> usize {
    rest.bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count()
}

/// The value of the number literal at `range`.
fn number(source: &str, range: std::ops::Range<usize>, column: usize) -> Result<Kind> {
    let text = &source[range];
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(Kind::Number(value)),
        _ => Err(syntax_error(
            source,
            column,
            format!("the number {text} is too large for a 64-bit float"),
        )),
    }
}

/// Whether the character at byte `at` is an ASCII digit.
fn next_is_digit(source: &str, at: usize) -> bool {
    source.as_bytes().get(at).is_some_and(u8::is_ascii_digit)
}

/// The byte just past the number starting at `start`: digits, an optional
/// `.` and digits, an optional exponent `e`/`E`, sign, digits (only taken when
/// it has a digit, so `2e` is the number 2 followed by the constant e).
fn number_end(source: &str, start: usize) -> usize {
    let bytes = source.as_bytes();
    let digits = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = digits(start);
    if bytes.get(i) == Some(&b'.') {
        i = digits(i + 1);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
        if next_is_digit(source, i + 1 + sign) {
            i = digits(i + 1 + sign);
        }
    }
    i
}

fn unexpected_character(source: &str, column: usize, c: char) -> crate::KobaiError {
    let hint = match c {
        '[' | ']' => "; write x0 for the book's x[0]",
        '.' => "; a number needs a digit, as in .5 or 0.5",
        _ => "",
    };
    syntax_error(source, column, format!("unexpected character '{c}'{hint}"))
}
