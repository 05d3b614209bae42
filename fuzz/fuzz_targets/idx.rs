//! The IDX reader, raw and gzip-compressed: every input is an `IdxArray` or an
//! error — never a panic, an abort, a hang or an allocation the input did not
//! pay for.
//!
//! Each input is read twice: as given (raw, or gzip when it starts with
//! `1f 8b`) and gzip-compressed, so the decoder path sees every raw input too.
//! Both must agree.

#![no_main]

use flate2::Crc;
use kobai::KobaiError;
use kobai::data::{IdxArray, read_idx_u8_from_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let raw = read(bytes);
    if let Ok(idx) = &raw
        && !bytes.starts_with(&[0x1f, 0x8b])
    {
        // A raw file that reads is exactly its header and its data.
        assert_eq!(encode(idx), bytes);
    }

    let unzipped = read(&gzip_stored(bytes));
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        // Compressing changes nothing about what the bytes say.
        assert_eq!(raw.is_ok(), unzipped.is_ok(), "{raw:?} vs {unzipped:?}");
        if let (Ok(a), Ok(b)) = (&raw, &unzipped) {
            assert_eq!(a, b);
        }
    }
});

/// Reads `bytes`, checking the result's invariants.
fn read(bytes: &[u8]) -> Result<IdxArray, KobaiError> {
    let result = read_idx_u8_from_bytes(bytes);
    match &result {
        Ok(idx) => {
            let product = idx.dims().iter().product::<usize>();
            assert_eq!(product, idx.data().len());
            assert!((1..=kobai::data::IDX_MAX_DIMS).contains(&idx.dims().len()));
            assert_eq!(idx.to_array().len(), product);
        }
        Err(err) => {
            assert!(matches!(err, KobaiError::Format { .. }), "{err:?}");
            assert!(!err.to_string().is_empty());
        }
    }
    result
}

/// The raw IDX bytes of `idx`.
fn encode(idx: &IdxArray) -> Vec<u8> {
    let mut out = vec![0, 0, 8, idx.dims().len() as u8];
    for &d in idx.dims() {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(idx.data());
    out
}

/// `bytes` as a gzip member of stored (uncompressed) deflate blocks: what
/// `gzip -0` writes, built by hand because a compressor's tables cost more
/// than a run.
fn gzip_stored(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut blocks = bytes.chunks(0xffff).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let mut crc = Crc::new();
    crc.update(bytes);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}
