//! Where a formula argument comes from: the text itself, `-` for standard
//! input, or `@FILE` for a file — for formulas too long for a shell line.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, ensure};

/// The most bytes a formula read from a file or stdin may have.
pub const MAX_FORMULA_BYTES: usize = 1 << 20;

/// The formula `arg` stands for: read from stdin for `-`, from the file for
/// `@FILE` (a trailing newline dropped), else `arg` itself.
pub fn formula_text(arg: &str) -> Result<String> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .take(MAX_FORMULA_BYTES as u64 + 1)
            .read_to_string(&mut text)
            .context("cannot read the formula from standard input")?;
        return checked(text, "standard input");
    }
    if let Some(file) = arg.strip_prefix('@') {
        let path = Path::new(file);
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| {
                f.take(MAX_FORMULA_BYTES as u64 + 1)
                    .read_to_string(&mut text)
            })
            .with_context(|| format!("cannot read the formula file {}", path.display()))?;
        return checked(text, &path.display().to_string());
    }
    Ok(arg.to_string())
}

/// `text` without its trailing newline, if it is not too long or empty.
fn checked(text: String, from: &str) -> Result<String> {
    ensure!(
        text.len() <= MAX_FORMULA_BYTES,
        "the formula in {from} is over the limit of {MAX_FORMULA_BYTES} bytes"
    );
    let text = text.trim_end_matches(['\n', '\r']).to_string();
    ensure!(!text.trim().is_empty(), "the formula in {from} is empty");
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_gives_its_formula_and_plain_text_is_itself() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("kobai-formula-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("f.txt");
        std::fs::write(&file, "x0^2 +\n  x1^2\n")?;
        assert_eq!(
            formula_text(&format!("@{}", file.display()))?,
            "x0^2 +\n  x1^2"
        );
        assert_eq!(formula_text("x^2")?, "x^2");
        let missing = formula_text(&format!("@{}", dir.join("nope").display())).unwrap_err();
        assert!(
            format!("{missing:#}").contains("cannot read the formula file"),
            "{missing:#}"
        );
        std::fs::write(&file, "\n")?;
        assert!(formula_text(&format!("@{}", file.display())).is_err());
        std::fs::write(&file, "x+".repeat(MAX_FORMULA_BYTES))?;
        let long = formula_text(&format!("@{}", file.display())).unwrap_err();
        assert!(
            long.to_string().contains("over the limit of 1048576 bytes"),
            "{long}"
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
