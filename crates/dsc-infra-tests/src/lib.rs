// SPDX-License-Identifier: Apache-2.0
//! This crate holds only integration tests (`tests/`); see its manifest.
