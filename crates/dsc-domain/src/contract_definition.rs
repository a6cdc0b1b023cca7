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
    /// The assets the selector picks when it picks by id alone (one criterion `id = x` or `id in [..]`), so that a
    /// catalog can find them by lookup instead of querying; `None` for any other selector (an empty one picks all).
    pub fn selected_ids(&self) -> Option<Vec<&str>> {
        let [criterion] = self.assets_selector.as_slice() else { return None };
        if !criterion.is_asset_id_path() {
            return None;
        }
        match criterion.operator {
            Operator::Eq => criterion.operand_right.as_str().map(|id| vec![id]),
            Operator::In => {
                criterion.operand_right.as_array().map(|values| values.iter().filter_map(|v| v.as_str()).collect())
            }
            _ => None,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selecting(selector: Vec<Criterion>) -> ContractDefinition {
        ContractDefinition {
            id: "cd".into(),
            created_at: 0,
            access_policy_id: "a".into(),
            contract_policy_id: "c".into(),
            assets_selector: selector,
            private_properties: Default::default(),
        }
    }

    #[test]
    fn only_a_selector_by_id_alone_is_answered_by_lookup() {
        let id = crate::namespaces::edc("id");
        let by = |operator, value| selecting(vec![Criterion::new(id.clone(), operator, value)]);
        assert_eq!(by(Operator::Eq, json!("a1")).selected_ids(), Some(vec!["a1"]));
        assert_eq!(by(Operator::In, json!(["a1", "a2"])).selected_ids(), Some(vec!["a1", "a2"]));
        assert_eq!(selecting(vec![Criterion::new("id", Operator::Eq, json!("a1"))]).selected_ids(), Some(vec!["a1"]));
        assert_eq!(by(Operator::Like, json!("a%")).selected_ids(), None);
        assert_eq!(selecting(vec![]).selected_ids(), None, "an empty selector picks every asset");
        let narrowed = selecting(vec![
            Criterion::new(id.clone(), Operator::Eq, json!("a1")),
            Criterion::new("line", Operator::Eq, json!("L3")),
        ]);
        assert_eq!(narrowed.selected_ids(), None, "a second criterion is decided by the database");
        assert_eq!(selecting(vec![Criterion::new("line", Operator::Eq, json!("L3"))]).selected_ids(), None);
    }
}
