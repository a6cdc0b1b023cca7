// SPDX-License-Identifier: Apache-2.0
//! Property-based fuzzing of the parsers an outsider reaches (`tests/parsers.rs`): no input may make them panic.
//! `DSC_FUZZ_CASES` sets the number of inputs per target (default 1000; the README names a longer run).
