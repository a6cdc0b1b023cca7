// SPDX-License-Identifier: Apache-2.0
//! Client subcommands of the binary: `dsc consume`, `dsc produce`, `dsc validate`, `dsc credential`, `dsc issuer` and `dsc demo`.

pub mod consume;
pub mod credential;
pub mod demo;
pub mod issuer;
pub mod produce;
pub mod validate;

/// Why a client subcommand stops before doing anything, with its exit code.
pub struct Refusal {
    pub code: u8,
    pub message: String,
}

/// The validator for an aspect model named on the command line: an unknown name is bad input (2); a bundled schema
/// that does not compile is a failure of the binary (1).
pub fn validator_for(name: &str) -> Result<dsc_aspects::Validator, Refusal> {
    let aspect = dsc_aspects::Aspect::resolve(name).map_err(|error| Refusal { code: 2, message: error.to_string() })?;
    dsc_aspects::Validator::new(aspect).map_err(|error| Refusal { code: 1, message: error.to_string() })
}

/// [`validator_for`] when an aspect is named at all.
pub fn aspect_validator(name: Option<&str>) -> Result<Option<dsc_aspects::Validator>, Refusal> {
    name.map(validator_for).transpose()
}
