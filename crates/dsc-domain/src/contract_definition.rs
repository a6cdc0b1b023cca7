// SPDX-License-Identifier: Apache-2.0
//! Contract definitions: which assets are offered under which access and contract policy.

use serde::{Deserialize, Serialize};

use crate::property::Properties;
use crate::query::{Criterion, Operator};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractDefinition {
    pub id: String,
    pub created_at: i64,
    /// Decides who may see the offer in the catalog.
    pub access_policy_id: String,
    /// Becomes the agreement's policy.
    pub contract_policy_id: String,
    /// Criteria an asset must satisfy to be offered; empty selects every asset.
    pub assets_selector: Vec<Criterion>,
    pub private_properties: Properties,
}

impl ContractDefinition {
    /// True when the selector names the asset explicitly by id (`id = x` or `id in [.., x, ..]`).
    ///
    /// Deleting such an asset would leave a definition that silently offers nothing, so the asset service refuses
    /// it. Selectors that match by other properties are not counted: they keep working for new assets.
    pub fn names_asset(&self, asset_id: &str) -> bool {
        self.assets_selector.iter().any(|criterion| {
            if !criterion.is_asset_id_path() {
                return false;
            }
            match criterion.operator {
                Operator::Eq => criterion.operand_right.as_str() == Some(asset_id),
                Operator::In => criterion
                    .operand_right
                    .as_array()
                    .is_some_and(|values| values.iter().any(|v| v.as_str() == Some(asset_id))),
                _ => false,
            }
        })
    }
}
