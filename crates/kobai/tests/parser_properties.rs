//! Property tests for the parsers that read untrusted input — the IDX reader
//! (raw and gzip), the `.npz` weights loader and the formula parser — run with
//! the normal tests. They are the quick, always-on counterpart of the fuzz
//! targets in `fuzz/`: arbitrary and mutated input is a value or an error,
//! never a panic, an abort or a huge allocation; valid input round-trips.

#[cfg(feature = "npz")]
use std::io::Cursor;

use kobai::data::{IdxArray, read_idx_u8, read_idx_u8_from_bytes, write_idx_u8};
use kobai::{Formula, KobaiError};
use ndarray::Array1;
use proptest::prelude::*;

mod support;

/// A fresh folder under the system temp dir, removed when dropped; unique
/// within the process, so parallel tests never share one.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("kobai-props-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------- IDX ----

/// The raw IDX bytes for `dims` and `data`.
fn idx_bytes(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    for &d in dims {
        bytes.extend_from_slice(&u32::try_from(d).expect("small dims").to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

#[cfg(feature = "gzip")]
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

/// Reads `bytes` and checks what any result must satisfy: a value whose data
/// fills its dimensions and came from the input, or a format error.
fn read_checked(bytes: &[u8]) -> Result<Option<IdxArray>, TestCaseError> {
    match read_idx_u8_from_bytes(bytes) {
        Ok(idx) => {
            prop_assert!((1..=4).contains(&idx.dims().len()));
            prop_assert_eq!(idx.dims().iter().product::<usize>(), idx.data().len());
            let array = idx.to_array();
            prop_assert_eq!(array.shape(), idx.dims());
            if !bytes.starts_with(&[0x1f, 0x8b]) {
                prop_assert_eq!(idx_bytes(idx.dims(), idx.data()), bytes);
            }
            Ok(Some(idx))
        }
        Err(err @ KobaiError::Format { .. }) => {
            prop_assert!(err.to_string().starts_with("(in memory): "), "{err}");
            Ok(None)
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "not a format error: {other:?}"
        ))),
    }
}

/// Dimensions (1 to 4, small) and data that fills them.
fn idx_case() -> impl Strategy<Value = (Vec<usize>, Vec<u8>)> {
    prop::collection::vec(0usize..6, 1..=4).prop_flat_map(|dims| {
        let len = dims.iter().product::<usize>();
        (Just(dims), prop::collection::vec(any::<u8>(), len))
    })
}

/// Up to a few byte overwrites (`(position, value)`, the position taken
/// modulo the length) and an optional cut.
fn mutations() -> impl Strategy<Value = (Vec<(usize, u8)>, Option<usize>)> {
    (
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        prop::option::of(any::<usize>()),
    )
}

fn mutate(bytes: &mut Vec<u8>, (edits, cut): &(Vec<(usize, u8)>, Option<usize>)) {
    if !bytes.is_empty() {
        let len = bytes.len();
        for &(at, value) in edits {
            bytes[at % len] = value;
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(cut % (bytes.len() + 1));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn idx_arbitrary_bytes_are_an_array_or_an_error(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        header in prop::sample::select(vec![
            vec![],
            vec![0, 0, 8, 1],
            vec![0, 0, 8, 3],
            vec![0x1f, 0x8b],
            vec![0x1f, 0x8b, 8, 0],
        ]),
    ) {
        // The header prefixes get past the first checks more often.
        let mut input = header;
        input.extend_from_slice(&bytes);
        read_checked(&input)?;
    }

    #[test]
    fn idx_mutated_files_are_an_array_or_an_error(
        (dims, data) in idx_case(),
        mutation in mutations(),
    ) {
        let mut bytes = idx_bytes(&dims, &data);
        mutate(&mut bytes, &mutation);
        read_checked(&bytes)?;
    }

    #[test]
    fn idx_a_lying_header_is_an_error_not_an_allocation(
        dims in prop::collection::vec(prop_oneof![Just(0), 1u32..4, any::<u32>()], 1..=4),
        data in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let dims: Vec<usize> = dims.into_iter().map(|d| d as usize).collect();
        let bytes = idx_bytes(&dims, &data);
        let claimed = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        // An array's dimensions other than 0 multiply to at most isize::MAX,
        // even when a 0 leaves it empty.
        let indexable = dims
            .iter()
            .filter(|&&d| d != 0)
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .is_some_and(|size| size <= isize::MAX as usize);
        let read = read_checked(&bytes)?;
        prop_assert_eq!(read.is_some(), claimed == Some(data.len()) && indexable);
    }

    #[test]
    fn idx_bytes_round_trip((dims, data) in idx_case()) {
        let idx = read_idx_u8_from_bytes(&idx_bytes(&dims, &data))?;
        prop_assert_eq!(idx, IdxArray::new(dims, data)?);
    }
}

#[cfg(feature = "gzip")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn gz_gives_what_raw_gives(
        (dims, data) in idx_case(),
        mutation in mutations(),
    ) {
        let mut raw = idx_bytes(&dims, &data);
        mutate(&mut raw, &mutation);
        prop_assume!(!raw.starts_with(&[0x1f, 0x8b]));
        let plain = read_checked(&raw)?;
        let unzipped = read_checked(&gzip(&raw))?;
        prop_assert_eq!(plain, unzipped);
    }

    #[test]
    fn gz_mutated_streams_are_an_array_or_an_error(
        (dims, data) in idx_case(),
        mutation in mutations(),
    ) {
        let mut gz = gzip(&idx_bytes(&dims, &data));
        mutate(&mut gz, &mutation);
        read_checked(&gz)?;
    }
}

proptest! {
    // Each case writes and reads four files.
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn idx_files_round_trip_raw_and_gz((dims, data) in idx_case()) {
        let dir = TempDir::new("idx-round-trip");
        let expected = IdxArray::new(dims.clone(), data.clone())?;
        let raw = dir.0.join("a.idx");
        write_idx_u8(&raw, &dims, &data)?;
        prop_assert_eq!(&read_idx_u8(&raw)?, &expected);
        let bytes = std::fs::read(&raw).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&read_idx_u8_from_bytes(&bytes)?, &expected);
        if cfg!(feature = "gzip") {
            let gz = dir.0.join("a.idx.gz");
            write_idx_u8(&gz, &dims, &data)?;
            prop_assert_eq!(&read_idx_u8(&gz)?, &expected);
            let bytes = std::fs::read(&gz).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&read_idx_u8_from_bytes(&bytes)?, &expected);
        }
    }
}

// ---------------------------------------------------------------- npz ----

#[cfg(feature = "npz")]
mod npz {
    use std::sync::OnceLock;

    use kobai::model::{load_npz_from_reader, save_npz};
    use kobai::{Params, TwoLayerNet};

    use super::*;
    use crate::support::crc32;

    /// A 4-3-2 net and its archive, made once.
    fn saved() -> &'static (TwoLayerNet, Vec<u8>) {
        static SAVED: OnceLock<(TwoLayerNet, Vec<u8>)> = OnceLock::new();
        SAVED.get_or_init(|| {
            let net = TwoLayerNet::new(4, 3, 2, 0.1, 7).expect("valid sizes");
            (net.clone(), archive(&net))
        })
    }

    fn archive(net: &TwoLayerNet) -> Vec<u8> {
        let dir = TempDir::new("npz");
        let path = dir.0.join("net.npz");
        save_npz(net, &path).expect("save");
        std::fs::read(&path).expect("read back")
    }

    /// Loads `bytes` into a copy of `net`: it either loads finite values or
    /// fails and leaves the copy as it was.
    fn load_checked(net: &TwoLayerNet, bytes: &[u8]) -> Result<Option<TwoLayerNet>, TestCaseError> {
        let mut model = net.clone();
        match load_npz_from_reader(&mut model, Cursor::new(bytes)) {
            Ok(()) => {
                for (name, param) in model.params() {
                    prop_assert!(param.iter().all(|v| v.is_finite()), "{} not finite", name);
                }
                Ok(Some(model))
            }
            Err(err) => {
                prop_assert_eq!(&model, net, "a failed load changed the model: {}", err);
                Ok(None)
            }
        }
    }

    /// The archive with W1's `.npy` header saying `shape` instead of `(4, 3)`,
    /// padded to the same length and with its CRC updated, so that only the
    /// header is wrong; `None` when `shape` does not fit the header's padding.
    fn with_w1_shape(bytes: &[u8], shape: &str) -> Option<Vec<u8>> {
        let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
        let start = find(bytes, b"\x93NUMPY")?;
        let end = start + find(&bytes[start..], b"PK\x03\x04")?;
        let at = start + find(&bytes[start..end], b"(4, 3)")?;
        let newline = at + find(&bytes[at..end], b"\n")?;
        let mut header = format!("{shape}, }}").into_bytes();
        if header.len() > newline - at {
            return None;
        }
        header.resize(newline - at, b' ');
        // Only the shape and its closing brace: drop what followed "(4, 3)".
        let mut out = bytes.to_vec();
        out.splice(at..newline, header);
        let (old, new) = (crc32(&bytes[start..end]), crc32(&out[start..end]));
        let (old, new) = (old.to_le_bytes(), new.to_le_bytes());
        let mut i = 0;
        while let Some(k) = find(&out[i..], &old) {
            out[i + k..i + k + 4].copy_from_slice(&new);
            i += k + 4;
        }
        Some(out)
    }

    #[test]
    fn the_shape_patch_keeps_the_archive_valid() {
        let (net, bytes) = saved();
        let same = with_w1_shape(bytes, "(4, 3)").expect("room for (4, 3)");
        assert_eq!(load_checked(net, &same).ok().flatten().as_ref(), Some(net));
        let flat = with_w1_shape(bytes, "(12,)").expect("room for (12,)");
        let err = load_npz_from_reader(&mut net.clone(), Cursor::new(&flat)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "W1 in (reader) has shape [12] but the model's W1 has shape [4, 3]"
        );
        let huge = with_w1_shape(bytes, "(4611686018427387904, 2)").expect("room");
        let err = load_npz_from_reader(&mut net.clone(), Cursor::new(&huge)).unwrap_err();
        assert!(matches!(err, KobaiError::Shape { .. }), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn npz_arbitrary_bytes_are_an_error(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let (net, _) = saved();
            prop_assert!(load_checked(net, &bytes)?.is_none());
        }

        #[test]
        fn npz_mutated_archives_load_or_change_nothing(mutation in mutations()) {
            let (net, bytes) = saved();
            let mut bytes = bytes.clone();
            mutate(&mut bytes, &mutation);
            load_checked(net, &bytes)?;
        }

        #[test]
        fn npz_any_claimed_shape_is_checked_before_reading(
            dims in prop::collection::vec(
                prop_oneof![0u64..10, any::<u64>(), Just(u64::MAX), Just(1 << 62)],
                0..4,
            ),
        ) {
            let (net, bytes) = saved();
            let shape = match dims.len() {
                1 => format!("({},)", dims[0]),
                _ => format!(
                    "({})",
                    dims.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
                ),
            };
            let Some(patched) = with_w1_shape(bytes, &shape) else {
                return Ok(());
            };
            let mut model = net.clone();
            let result = load_npz_from_reader(&mut model, Cursor::new(&patched));
            if dims == [4, 3] {
                prop_assert!(result.is_ok(), "{:?}", result);
            } else {
                prop_assert!(result.is_err(), "{} loaded", shape);
                prop_assert_eq!(&model, net);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

        #[test]
        fn npz_round_trips(sizes in (1usize..6, 1usize..6, 1usize..6), seed in any::<u64>()) {
            let net = TwoLayerNet::new(sizes.0, sizes.1, sizes.2, 0.1, seed)?;
            let mut other = TwoLayerNet::new(sizes.0, sizes.1, sizes.2, 0.1, seed ^ 1)?;
            load_npz_from_reader(&mut other, Cursor::new(archive(&net)))?;
            prop_assert_eq!(other, net);
        }
    }
}

// ------------------------------------------------------------ formula ----

/// Parses `source` and checks what any result must satisfy: an error is a
/// [`KobaiError::Formula`] whose column lies in the text (or just past it); a
/// formula evaluates and differentiates at a point of its arity.
fn parse_checked(source: &str) -> Result<Option<Formula>, TestCaseError> {
    match Formula::parse(source) {
        Ok(f) => {
            prop_assert_eq!(f.source(), source);
            if f.arity() <= 64 {
                let x = Array1::from_shape_fn(f.arity(), |i| 0.5 + 0.25 * i as f64);
                f.evaluate(&x)?;
                prop_assert_eq!(f.gradient(&x)?.len(), f.arity());
            }
            if f.arity() > 0 {
                prop_assert!(f.evaluate(&Array1::zeros(f.arity().min(65) - 1)).is_err());
            }
            Ok(Some(f))
        }
        Err(KobaiError::Formula {
            formula, position, ..
        }) => {
            prop_assert_eq!(formula, source);
            prop_assert!(
                (1..=source.chars().count() + 1).contains(&position),
                "column {} outside {:?}",
                position,
                source
            );
            Ok(None)
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "not a formula error: {other:?}"
        ))),
    }
}

/// A formula as a tree, to print and to compute directly.
#[derive(Clone, Debug)]
enum Expr {
    Num(f64),
    Var(usize),
    Const(&'static str, f64),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
    Call(&'static str, Vec<Expr>),
}

const UNARY: [&str; 8] = ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "abs"];
const BINARY: [&str; 3] = ["pow", "min", "max"];

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0u32..1000, 0u32..4).prop_map(|(m, e)| Expr::Num(f64::from(m) / 10f64.powi(e as i32))),
        Just(Expr::Num(2.0)),
        (0usize..4).prop_map(Expr::Var),
        Just(Expr::Const("pi", std::f64::consts::PI)),
        Just(Expr::Const("e", std::f64::consts::E)),
    ];
    leaf.prop_recursive(5, 48, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| Expr::Neg(Box::new(a))),
            (
                prop::sample::select(vec!['+', '-', '*', '/', '^']),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| Expr::Bin(op, Box::new(a), Box::new(b))),
            (prop::sample::select(UNARY.to_vec()), inner.clone())
                .prop_map(|(f, a)| Expr::Call(f, vec![a])),
            (prop::sample::select(BINARY.to_vec()), inner.clone(), inner)
                .prop_map(|(f, a, b)| Expr::Call(f, vec![a, b])),
        ]
    })
}

impl Expr {
    /// Fully parenthesised text; `alt` picks the other spellings (`**`, `×`,
    /// `−`, `x`/`y`, spaces) where the language has them.
    fn text(&self, alt: bool) -> String {
        match self {
            Expr::Num(v) => format!("{v}"),
            Expr::Var(0) if alt => "x".into(),
            Expr::Var(1) if alt => "y".into(),
            Expr::Var(i) => format!("x{i}"),
            Expr::Const(name, _) => (*name).into(),
            Expr::Neg(a) if alt => format!("(\u{2212}{})", a.text(alt)),
            Expr::Neg(a) => format!("(-{})", a.text(alt)),
            Expr::Bin(op, a, b) => {
                let op = match (op, alt) {
                    ('^', true) => " ** ".to_string(),
                    ('*', true) => " \u{d7} ".to_string(),
                    ('-', true) => " \u{2212} ".to_string(),
                    (op, _) => op.to_string(),
                };
                format!("({}{op}{})", a.text(alt), b.text(alt))
            }
            Expr::Call(f, args) => {
                let args: Vec<String> = args.iter().map(|a| a.text(alt)).collect();
                format!("{f}({})", args.join(if alt { " , " } else { "," }))
            }
        }
    }

    /// The value at `x`, computed directly with the same `f64` operations.
    fn value(&self, x: &[f64]) -> f64 {
        match self {
            Expr::Num(v) | Expr::Const(_, v) => *v,
            Expr::Var(i) => x[*i],
            Expr::Neg(a) => -a.value(x),
            Expr::Bin(op, a, b) => {
                let (a, b2) = (a.value(x), b.value(x));
                match op {
                    '+' => a + b2,
                    '-' => a - b2,
                    '*' => a * b2,
                    '/' => a / b2,
                    _ => power(a, b, b2),
                }
            }
            Expr::Call(f, args) => {
                let a = args[0].value(x);
                match *f {
                    "exp" => a.exp(),
                    "log" => a.ln(),
                    "sqrt" => a.sqrt(),
                    "sin" => a.sin(),
                    "cos" => a.cos(),
                    "tan" => a.tan(),
                    "tanh" => a.tanh(),
                    "abs" => a.abs(),
                    _ => {
                        let b2 = args[1].value(x);
                        match *f {
                            "pow" => power(a, &args[1], b2),
                            "min" => a.min(b2),
                            _ => a.max(b2),
                        }
                    }
                }
            }
        }
    }
}

/// `a^b`: the parser compiles a literal exponent 2 to `a*a` (exact).
fn power(a: f64, exponent: &Expr, b: f64) -> f64 {
    if matches!(exponent, Expr::Num(v) if *v == 2.0) {
        a * a
    } else {
        a.powf(b)
    }
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn formula_arbitrary_strings_parse_or_name_a_column(source in "\\PC{0,40}") {
        parse_checked(&source)?;
    }

    #[test]
    fn formula_token_soup_parses_or_names_a_column(
        tokens in prop::collection::vec(
            prop::sample::select(vec![
                "x0", "x1", "x", "y", "x12", "pi", "e", "2", "0.5", ".5", "1e3", "2e", "1e400",
                "+", "-", "*", "/", "^", "**", "(", ")", ",", " ", "\u{2212}", "\u{d7}",
                "exp", "log", "pow", "min", "sqrt", "abs", "foo", "ln", "[", "x01", "1.2.3",
            ]),
            0..24,
        ),
    ) {
        parse_checked(&tokens.concat())?;
    }

    #[test]
    fn formula_deep_nesting_is_an_error_not_a_stack_overflow(
        depth in 90usize..400,
        open in prop::sample::select(vec!["(", "-", "+", "2^", "exp(", "pow(1,", "--("]),
    ) {
        let source = format!("{}x{}", open.repeat(depth), ")".repeat(depth * open.matches('(').count()));
        parse_checked(&source)?;
    }

    #[test]
    fn formula_generated_expressions_evaluate_as_rust_computes_them(
        e in expr(),
        alt in any::<bool>(),
        point in prop::collection::vec(-3.0..3.0f64, 4),
    ) {
        let source = e.text(alt);
        let f = Formula::parse(&source).map_err(|err| TestCaseError::fail(err.to_string()))?;
        let x = Array1::from(point.clone());
        let (got, expected) = (f.evaluate(&x)?, e.value(&point));
        prop_assert!(same(got, expected), "{} at {:?}: {} vs {}", source, point, got, expected);
        prop_assert_eq!(f.gradient(&x)?.len(), 4);
        // The other spelling is the same formula.
        let other = Formula::parse(&e.text(!alt)).map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert!(same(other.evaluate(&x)?, got));
    }
}
