//! Guides that are only documentation.

pub mod for_book_readers;
