// SPDX-License-Identifier: Apache-2.0
//! As-built bill of material assembly from streamed records: SingleLevelBomAsBuilt gives the edges top-down,
//! SingleLevelUsageAsBuilt bottom-up, and SerialPart / Batch / JustInSequencePart give the part data, joined by
//! Catena-X id. Records may arrive in any order and again (the latest one wins), as they do on a Kafka topic.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::model::{Aspect, Model, Version};
use crate::types::{LocalIdentifier, Payload, Quantity};

/// What the identifying aspect of a twin says about the part.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartData {
    pub aspect: String,
    pub name_at_manufacturer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_part_id: Option<String>,
    pub local_identifiers: BTreeMap<String, String>,
}

/// An edge of the structure as one side reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Link {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<Quantity>,
    business_partner: String,
}

impl Link {
    fn new(id: &str, quantity: Option<&Quantity>, business_partner: &str) -> Link {
        Link { id: id.to_string(), quantity: quantity.cloned(), business_partner: business_partner.to_string() }
    }
}

/// A node of an assembled tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    #[serde(rename = "catenaXId")]
    pub catena_x_id: String,
    /// Absent when no identifying aspect of the part has been seen yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<PartData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Quantity>,
    /// The BPNL of the child's supplier (BoM) or the parent's manufacturer (usage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_partner: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
    /// Set where the id already appeared above: the records describe a cycle, which is cut here.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cycle: bool,
}

impl Node {
    /// Number of nodes in the tree.
    pub fn size(&self) -> usize {
        1 + self.children.iter().map(Node::size).sum::<usize>()
    }

    pub fn depth(&self) -> usize {
        1 + self.children.iter().map(Node::depth).max().unwrap_or(0)
    }
}

/// Collects records and answers with trees.
#[derive(Debug, Default)]
pub struct BomAssembler {
    parts: HashMap<String, PartData>,
    children: HashMap<String, Vec<Link>>,
    parents: HashMap<String, Vec<Link>>,
}

fn identifiers(list: &[LocalIdentifier]) -> BTreeMap<String, String> {
    list.iter().map(|identifier| (identifier.key.clone(), identifier.value.clone())).collect()
}

impl BomAssembler {
    pub fn new() -> BomAssembler {
        BomAssembler::default()
    }

    /// Takes a record; a later record about the same part and aspect replaces the earlier one.
    pub fn add(&mut self, payload: &Payload) {
        let id = payload.catena_x_id().to_string();
        // (name at manufacturer, manufacturer part id, local identifiers) of the identifying aspects.
        let part = match payload {
            Payload::SerialPartV3(p) => {
                let info = &p.part_type_information;
                Some((
                    Some(info.name_at_manufacturer.as_str()),
                    Some(info.manufacturer_part_id.as_str()),
                    &p.local_identifiers,
                ))
            }
            Payload::BatchV3(p) => {
                let info = &p.part_type_information;
                Some((
                    Some(info.name_at_manufacturer.as_str()),
                    Some(info.manufacturer_part_id.as_str()),
                    &p.local_identifiers,
                ))
            }
            Payload::JustInSequencePartV3(p) => {
                let info = &p.part_type_information;
                Some((
                    Some(info.name_at_manufacturer.as_str()),
                    info.manufacturer_part_id.as_deref(),
                    &p.local_identifiers,
                ))
            }
            Payload::SerialPartV4(p) => {
                let info = &p.part_type_information;
                Some((info.name_at_manufacturer.as_deref(), info.manufacturer_part_id.as_deref(), &p.local_identifiers))
            }
            Payload::BatchV4(p) => {
                let info = &p.part_type_information;
                Some((
                    Some(info.name_at_manufacturer.as_str()),
                    Some(info.manufacturer_part_id.as_str()),
                    &p.local_identifiers,
                ))
            }
            Payload::JustInSequencePartV4(p) => {
                let info = &p.part_type_information;
                Some((
                    Some(info.name_at_manufacturer.as_str()),
                    info.manufacturer_part_id.as_deref(),
                    &p.local_identifiers,
                ))
            }
            _ => None,
        };
        if let Some((name, manufacturer_part_id, list)) = part {
            let data = PartData {
                aspect: payload.model().name().to_string(),
                name_at_manufacturer: name.map(str::to_string),
                manufacturer_part_id: manufacturer_part_id.map(str::to_string),
                local_identifiers: identifiers(list),
            };
            self.parts.insert(id, data);
            return;
        }
        match payload {
            Payload::BomV3(bom) => {
                let links =
                    bom.child_items.iter().map(|c| Link::new(&c.catena_x_id, Some(&c.quantity), &c.business_partner));
                self.children.insert(id, links.collect());
            }
            Payload::BomV4(bom) => {
                let links = bom
                    .child_items
                    .iter()
                    .map(|c| Link::new(&c.global_asset_id, Some(&c.quantity), &c.business_partner));
                self.children.insert(id, links.collect());
            }
            Payload::UsageV3(usage) => {
                let links = usage
                    .parent_items
                    .iter()
                    .map(|p| Link::new(&p.catena_x_id, p.quantity.as_ref(), &p.business_partner));
                self.parents.insert(id, links.collect());
            }
            Payload::UsageV4(usage) => {
                let links = usage
                    .parent_items
                    .iter()
                    .map(|p| Link::new(&p.global_asset_id, p.quantity.as_ref(), &p.business_partner));
                self.parents.insert(id, links.collect());
            }
            _ => {}
        }
    }

    /// Takes an untyped record, recognising its aspect by shape; `None` when it is none of the five models.
    pub fn add_value(&mut self, value: &Value) -> Option<Aspect> {
        let aspect = detect(value)?;
        let payload = Payload::from_value(aspect, value.clone()).ok()?;
        self.add(&payload);
        Some(aspect)
    }

    /// Parts that have children and are nobody's child: the tops of the structures seen so far.
    pub fn roots(&self) -> Vec<String> {
        let children: BTreeSet<&str> = self.children.values().flatten().map(|link| link.id.as_str()).collect();
        let mut roots: Vec<String> =
            self.children.keys().filter(|id| !children.contains(id.as_str())).cloned().collect();
        roots.sort();
        roots
    }

    /// The as-built tree below `id` (top-down, from BoM records).
    pub fn tree(&self, id: &str) -> Node {
        self.walk(id, None, &self.children, &mut Vec::new())
    }

    /// The parents above `id` (bottom-up, from usage records).
    pub fn usage_tree(&self, id: &str) -> Node {
        self.walk(id, None, &self.parents, &mut Vec::new())
    }

    fn walk(&self, id: &str, link: Option<&Link>, edges: &HashMap<String, Vec<Link>>, path: &mut Vec<String>) -> Node {
        let mut node = Node {
            catena_x_id: id.to_string(),
            part: self.parts.get(id).cloned(),
            quantity: link.and_then(|link| link.quantity.clone()),
            business_partner: link.map(|link| link.business_partner.clone()),
            children: Vec::new(),
            cycle: path.iter().any(|seen| seen == id),
        };
        if node.cycle {
            return node;
        }
        path.push(id.to_string());
        for next in edges.get(id).into_iter().flatten() {
            node.children.push(self.walk(&next.id, Some(next), edges, path));
        }
        path.pop();
        node
    }

    /// Where the two directions disagree: a BoM that lists a child whose usage does not name the parent, and the
    /// reverse. Only checked where both records have been seen.
    pub fn inconsistencies(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (parent, links) in &self.children {
            for child in links {
                if let Some(parents) = self.parents.get(&child.id)
                    && !parents.iter().any(|link| &link.id == parent)
                {
                    found.push(format!("the BoM of {parent} lists {} but its usage does not name {parent}", child.id));
                }
            }
        }
        for (child, links) in &self.parents {
            for parent in links {
                if let Some(children) = self.children.get(&parent.id)
                    && !children.iter().any(|link| &link.id == child)
                {
                    found.push(format!("the usage of {child} names {} but its BoM does not list {child}", parent.id));
                }
            }
        }
        found.sort();
        found
    }
}

/// Recognises the aspect of an untyped record by its shape (a stream may mix models).
pub fn detect(value: &Value) -> Option<Aspect> {
    let object = value.as_object()?;
    let version = if object.contains_key("globalAssetId") {
        Version::V4_0_0
    } else if object.contains_key("catenaXId") {
        Version::V3_0_0
    } else {
        return None;
    };
    let model = if object.contains_key("childItems") {
        Model::SingleLevelBomAsBuilt
    } else if object.contains_key("parentItems") {
        Model::SingleLevelUsageAsBuilt
    } else {
        let keys: BTreeSet<&str> = object
            .get("localIdentifiers")?
            .as_array()?
            .iter()
            .filter_map(|identifier| identifier.get("key")?.as_str())
            .collect();
        if keys.contains("jisNumber") {
            Model::JustInSequencePart
        } else if keys.contains("batchId") && !keys.contains("partInstanceId") {
            Model::Batch
        } else {
            Model::SerialPart
        }
    };
    Some(Aspect::new(model, version))
}

/// What the processing example prints: every tree seen, and where BoM and usage disagree.
#[derive(Debug, Serialize)]
pub struct Assembly {
    pub trees: Vec<Node>,
    pub inconsistencies: Vec<String>,
    /// Lines that were no JSON or none of the five models.
    pub skipped: usize,
}

/// Assembles JSON lines: bare payloads, or `dsc consume` lines whose `value` holds the payload.
pub fn assemble_lines(lines: impl IntoIterator<Item = String>) -> Assembly {
    let mut assembler = BomAssembler::new();
    let mut skipped = 0;
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            skipped += 1;
            continue;
        };
        if assembler.add_value(crate::lines::payload_of(&value)).is_none() {
            skipped += 1;
        }
    }
    let trees = assembler.roots().iter().map(|root| assembler.tree(root)).collect();
    Assembly { trees, inconsistencies: assembler.inconsistencies(), skipped }
}
