// SPDX-License-Identifier: Apache-2.0
//! The provider's check of a requested offer: the offer id names one of its contract definitions, the definition
//! selects the asset, and the consumer satisfies the definition's access and contract policies.

use std::sync::Arc;

use dsc_domain::odrl::PolicyType;
use dsc_domain::{
    Approval, Asset, ContractDefinition, ContractOfferId, Criterion, Offer, Operator, ParticipantAgent,
    PolicyDefinition, QuerySpec,
};
use dsc_policy::{PolicyContext, PolicyEngine, Scope};
use dsc_store::Repository;

use crate::ProtocolError;

pub(super) struct OfferCheck {
    pub participant_id: String,
    pub definitions: Arc<dyn Repository<ContractDefinition>>,
    pub policies: Arc<dyn Repository<PolicyDefinition>>,
    pub assets: Arc<dyn Repository<Asset>>,
    pub engine: Arc<PolicyEngine>,
}

impl OfferCheck {
    /// The offer `peer` may negotiate under `offer_id`, with the policy of the provider's own definition (the
    /// provider never trusts the policy a consumer sends), and what the asset's operator approves by hand.
    pub async fn offer_for(&self, peer: &ParticipantAgent, offer_id: &str) -> Result<(Offer, Approval), ProtocolError> {
        let parsed = ContractOfferId::parse(offer_id)
            .ok_or_else(|| ProtocolError::Refused(format!("'{offer_id}' is not an offer id of this connector")))?;
        let unmatched = || ProtocolError::Refused(format!("offer '{offer_id}' does not match any contract definition"));
        let definition = self.definitions.find(&parsed.definition_id).await?.ok_or_else(unmatched)?;
        let mut selector = definition.assets_selector.clone();
        selector.push(Criterion::new("id", Operator::Eq, parsed.asset_id.clone().into()));
        let selected = self.assets.query(&QuerySpec { filter_expression: selector, ..QuerySpec::default() }).await?;
        let Some(asset) = selected.first() else {
            return Err(unmatched());
        };
        let approval = asset.approval();
        let access = self.policies.find(&definition.access_policy_id).await?;
        let contract = self.policies.find(&definition.contract_policy_id).await?;
        let (Some(access), Some(contract)) = (access, contract) else {
            return Err(ProtocolError::Refused(format!("offer '{offer_id}' is not available")));
        };
        self.engine
            .evaluate(&access.policy, &PolicyContext::new(Scope::Catalog, peer.clone()))
            .map_err(|violation| ProtocolError::Refused(violation.to_string()))?;
        self.engine
            .evaluate(&contract.policy, &PolicyContext::new(Scope::ContractNegotiation, peer.clone()))
            .map_err(|violation| ProtocolError::Refused(violation.to_string()))?;

        let mut policy = contract.policy;
        policy.policy_type = PolicyType::Offer;
        policy.uid = Some(offer_id.to_string());
        policy.target = Some(parsed.asset_id.clone());
        policy.assigner = Some(self.participant_id.clone());
        Ok((Offer { id: parsed, policy }, approval))
    }
}
