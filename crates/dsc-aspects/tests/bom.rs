// SPDX-License-Identifier: Apache-2.0
//! The as-built BoM assembly against a generated three-level vehicle structure whose truth is known.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dsc_aspects::Model;
use dsc_aspects::bom::{BomAssembler, Node, assemble_lines, detect};
use dsc_aspects::generate::{Generator, Structure};
use dsc_aspects::types::Payload;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde_json::json;

fn shuffled_lines(structure: &Structure, seed: u64) -> Vec<String> {
    let mut lines: Vec<String> = structure.records().map(|record| record.to_value().to_string()).collect();
    lines.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    lines
}

fn assert_matches(node: &Node, structure: &Structure) {
    let part = node.part.as_ref().unwrap_or_else(|| panic!("no part data for {}", node.catena_x_id));
    assert!(part.name_at_manufacturer.is_some());
    let expected = structure.children.get(&node.catena_x_id).cloned().unwrap_or_default();
    let actual: Vec<String> = node.children.iter().map(|child| child.catena_x_id.clone()).collect();
    assert_eq!(actual, expected, "children of {}", node.catena_x_id);
    for child in &node.children {
        assert!(child.quantity.is_some() && child.business_partner.is_some());
        assert_matches(child, structure);
    }
}

#[test]
fn a_three_level_vehicle_is_assembled_from_records_in_any_order() {
    let structure = Generator::new(42).vehicle(3, 3);
    assert_eq!((structure.parts.len(), structure.boms.len(), structure.usages.len()), (13, 4, 12));
    for seed in 0..5 {
        let assembly = assemble_lines(shuffled_lines(&structure, seed));
        assert_eq!(assembly.skipped, 0);
        assert!(assembly.inconsistencies.is_empty(), "{:?}", assembly.inconsistencies);
        assert_eq!(assembly.trees.len(), 1);
        let tree = &assembly.trees[0];
        assert_eq!(tree.catena_x_id, structure.root);
        assert_eq!((tree.size(), tree.depth()), (13, 3));
        assert_eq!(tree.part.as_ref().and_then(|part| part.local_identifiers.get("van")).map(String::len), Some(17));
        assert_matches(tree, &structure);
    }
}

#[test]
fn the_usage_direction_leads_from_a_leaf_to_the_vehicle() {
    let structure = Generator::new(1).vehicle(3, 2);
    let mut assembler = BomAssembler::new();
    structure.records().for_each(|record| assembler.add(record));
    let leaf = structure.children.values().last().and_then(|children| children.last()).expect("a leaf").clone();
    let up = assembler.usage_tree(&leaf);
    assert_eq!(up.depth(), 3);
    assert_eq!(up.children[0].children[0].catena_x_id, structure.root);
    assert_eq!(up.children[0].children[0].part.as_ref().map(|part| part.aspect.as_str()), Some("SerialPart"));
}

#[test]
fn consume_lines_are_unwrapped_and_foreign_lines_counted() {
    let structure = Generator::new(2).vehicle(2, 2);
    let mut lines: Vec<String> = structure
        .records()
        .enumerate()
        .map(|(offset, record)| json!({"partition": 0, "offset": offset, "value": record.to_value()}).to_string())
        .collect();
    lines.push("not json".into());
    lines.push(json!({"temperature": 71.5}).to_string());
    let assembly = assemble_lines(lines);
    assert_eq!(assembly.skipped, 2);
    assert_eq!(assembly.trees[0].size(), 3);
}

#[test]
fn disagreeing_directions_are_reported_and_cycles_cut() {
    let structure = Generator::new(3).vehicle(2, 1);
    let mut assembler = BomAssembler::new();
    structure.parts.iter().chain(&structure.boms).for_each(|record| assembler.add(record));
    let child = structure.children[&structure.root][0].clone();
    let mut usage = structure.usages[0].clone();
    let stranger = "urn:uuid:00000000-0000-4000-8000-000000000000".to_string();
    if let Payload::UsageV3(record) = &mut usage {
        record.parent_items[0].catena_x_id = stranger.clone();
    }
    assembler.add(&usage);
    assert_eq!(
        assembler.inconsistencies(),
        vec![format!("the BoM of {} lists {child} but its usage does not name {}", structure.root, structure.root)]
    );
    // A BoM naming its own parent as child: the tree stops there instead of recursing forever.
    let mut cyclic = structure.boms[0].clone();
    if let Payload::BomV3(record) = &mut cyclic {
        record.catena_x_id = child.clone();
        record.child_items[0].catena_x_id = structure.root.clone();
    }
    assembler.add(&cyclic);
    let tree = assembler.tree(&structure.root);
    assert!(tree.children[0].children[0].cycle);
}

#[test]
fn records_are_recognised_by_shape() {
    let mut generator = Generator::new(4);
    for aspect in dsc_aspects::Aspect::all() {
        let expected = aspect.model;
        let detected = detect(&generator.payload(aspect).to_value()).map(|aspect| aspect.model);
        assert_eq!(detected, Some(expected), "{aspect}");
    }
    assert_eq!(detect(&json!({"catenaXId": "x"})), None);
    assert_ne!(Some(Model::Batch), detect(&json!({"catenaXId": "x", "childItems": []})).map(|a| a.model));
}
