//! Cross-crate end-to-end tests of the audit workspace (in `tests/it`), and the README's code
//! examples compiled and run as doc tests, so the quick starts cannot rot.

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
