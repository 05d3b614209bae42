//! Guides that are only documentation.

pub mod bad_input;
pub mod for_book_readers;
pub mod numerical_derivatives;
