// SPDX-License-Identifier: Apache-2.0
//! Stored policies (ODRL `Set`s) that contract definitions refer to by id.

use serde::{Deserialize, Serialize};

use crate::odrl::Policy;
use crate::property::Properties;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDefinition {
    pub id: String,
    pub created_at: i64,
    pub policy: Policy,
    pub private_properties: Properties,
}
