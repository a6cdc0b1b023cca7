// SPDX-License-Identifier: Apache-2.0
//! Client subcommands of the binary: `dsc consume` and `dsc produce`.

pub mod consume;
pub mod produce;
