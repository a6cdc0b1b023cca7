// SPDX-License-Identifier: Apache-2.0
//! Valid, realistic test data for every model: BPNL/BPNS of the documented shape, `urn:uuid` ids, the local
//! identifier keys each model uses, dates with offsets and quantity units from the enumeration; and consistent
//! multi-level as-built structures (parts, their BoM and their usage) for the processing examples and the demo.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::{Aspect, Model, Version};
use crate::types::{LocalIdentifier, Payload, QUANTITY_UNITS, Quantity, SiteFunction, v3, v4};

const PART_NAMES: [&str; 16] = [
    "Front axle",
    "Rear axle",
    "Brake disc",
    "Brake caliper",
    "Wheel hub",
    "Steering gear",
    "Seat frame",
    "Door module",
    "Mirror left",
    "Battery module",
    "Battery cell",
    "Control unit",
    "Wiring harness",
    "Shock absorber",
    "Gearbox housing",
    "Cooling pump",
];
const COUNTRIES: [&str; 8] = ["DEU", "FRA", "CZE", "POL", "HUN", "ESP", "ITA", "AUT"];
const OFFSETS: [&str; 5] = ["Z", "+01:00", "+02:00", "-05:00", "+05:30"];
const BATCH_UNITS: [&str; 5] = ["unit:kilogram", "unit:gram", "unit:litre", "unit:millilitre", "unit:metre"];
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A seeded generator: the same seed gives the same records.
pub struct Generator {
    rng: StdRng,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator { rng: StdRng::seed_from_u64(seed) }
    }

    pub fn catena_x_id(&mut self) -> String {
        let bytes: [u8; 16] = self.rng.random();
        format!("urn:uuid:{}", uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    /// `BPNL` + 10 digits + 2 alphanumerics, as the model describes it.
    pub fn bpnl(&mut self) -> String {
        self.bpn("BPNL")
    }

    pub fn bpns(&mut self) -> String {
        self.bpn("BPNS")
    }

    fn bpn(&mut self, prefix: &str) -> String {
        let digits: String = (0..10).map(|_| char::from(b'0' + self.rng.random_range(0..10u8))).collect();
        format!("{prefix}{digits}{}{}", self.alphanumeric(), self.alphanumeric())
    }

    fn alphanumeric(&mut self) -> char {
        char::from(ALPHANUMERIC[self.rng.random_range(0..ALPHANUMERIC.len())])
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.random_range(0..from.len())]
    }

    fn digits(&mut self, count: usize) -> String {
        (0..count).map(|_| char::from(b'0' + self.rng.random_range(0..10u8))).collect()
    }

    /// A date in 2024–2026.
    pub fn date(&mut self) -> String {
        format!(
            "{}-{:02}-{:02}",
            self.rng.random_range(2024..=2026),
            self.rng.random_range(1..=12),
            self.rng.random_range(1..=28)
        )
    }

    /// A date-time with milliseconds and `Z` or an offset.
    pub fn date_time(&mut self) -> String {
        let date = self.date();
        let offset = self.pick(&OFFSETS);
        format!(
            "{date}T{:02}:{:02}:{:02}.{:03}{offset}",
            self.rng.random_range(0..24),
            self.rng.random_range(0..60),
            self.rng.random_range(0..60),
            self.rng.random_range(0..1000)
        )
    }

    fn manufacturer_part_id(&mut self) -> String {
        format!("MPI-{}-{}", self.digits(4), self.alphanumeric())
    }

    /// A serialized or JIS child is one piece; a batch child is an amount of material.
    fn quantity(&mut self, child: Model) -> Quantity {
        if child == Model::Batch {
            let unit = self.pick(&BATCH_UNITS).to_string();
            Quantity { value: f64::from(self.rng.random_range(1..=2000)) / 10.0, unit }
        } else {
            Quantity { value: 1.0, unit: "unit:piece".into() }
        }
    }

    /// Any unit of the enumeration, for records generated one at a time.
    fn any_quantity(&mut self) -> Quantity {
        let unit = self.pick(&QUANTITY_UNITS).to_string();
        Quantity { value: f64::from(self.rng.random_range(1..=2000)) / 10.0, unit }
    }

    fn sites_v3(&mut self) -> Vec<v3::Site> {
        vec![v3::Site { catena_x_site_id: self.bpns(), function: SiteFunction::Production }]
    }

    fn classification_v3(&mut self) -> Vec<v3::PartClassification> {
        vec![v3::PartClassification {
            classification_standard: "GIN 20510-21513".into(),
            classification_id: self.digits(7),
            classification_description: Some(
                "Generic standard for classification of parts in the automotive industry.".into(),
            ),
        }]
    }

    fn classification_v4(&mut self) -> Vec<v4::PartClassification> {
        vec![v4::PartClassification {
            standard: "GIN 20510-21513".into(),
            id: self.digits(7),
            description: Some("Generic standard for classification of parts in the automotive industry.".into()),
        }]
    }

    fn identifiers(&mut self, model: Model, manufacturer: &str) -> Vec<LocalIdentifier> {
        let pair = |key: &str, value: String| LocalIdentifier { key: key.into(), value };
        let mut identifiers = vec![pair("manufacturerId", manufacturer.to_string())];
        match model {
            Model::Batch => identifiers.push(pair("batchId", format!("BID-{}", self.digits(8)))),
            Model::JustInSequencePart => {
                identifiers.push(pair("jisNumber", format!("JIS-{}", self.digits(10))));
                identifiers.push(pair("parentOrderNumber", format!("PON-{}", self.digits(6))));
                let call_date = self.date();
                identifiers.push(pair("jisCallDate", call_date));
            }
            _ => identifiers.push(pair("partInstanceId", format!("SN-{}", self.digits(10)))),
        }
        identifiers
    }

    /// A part identified by `model` (SerialPart, Batch or JustInSequencePart) at 3.0.x.
    pub fn part_v3(&mut self, model: Model, id: String, manufacturer: &str, name: &str) -> Payload {
        let manufacturing_information = v3::ManufacturingInformation {
            date: self.date_time(),
            country: Some(self.pick(&COUNTRIES).to_string()),
            sites: Some(self.sites_v3()),
        };
        let local_identifiers = self.identifiers(model, manufacturer);
        let manufacturer_part_id = self.manufacturer_part_id();
        let part_classification = Some(self.classification_v3());
        match model {
            Model::Batch => Payload::BatchV3(v3::Batch {
                catena_x_id: id,
                local_identifiers,
                manufacturing_information,
                part_type_information: v3::BatchPartTypeInformation {
                    manufacturer_part_id,
                    name_at_manufacturer: name.into(),
                    part_classification,
                },
            }),
            Model::JustInSequencePart => Payload::JustInSequencePartV3(v3::JustInSequencePart {
                catena_x_id: id,
                local_identifiers,
                manufacturing_information,
                part_type_information: v3::JisPartTypeInformation {
                    manufacturer_part_id: Some(manufacturer_part_id),
                    customer_part_id: Some(format!("CPI-{}", self.digits(5))),
                    name_at_manufacturer: name.into(),
                    name_at_customer: Some(name.to_lowercase()),
                    part_classification,
                },
            }),
            _ => Payload::SerialPartV3(v3::SerialPart {
                catena_x_id: id,
                local_identifiers,
                manufacturing_information,
                part_type_information: v3::SerialPartTypeInformation {
                    manufacturer_part_id,
                    customer_part_id: Some(format!("CPI-{}", self.digits(5))),
                    name_at_manufacturer: name.into(),
                    name_at_customer: Some(name.to_lowercase()),
                    part_classification,
                },
            }),
        }
    }

    fn part_v4(&mut self, model: Model) -> Payload {
        let manufacturer = self.bpnl();
        let name = self.pick(&PART_NAMES).to_string();
        let global_asset_id = self.catena_x_id();
        let manufacturing_information = v4::ManufacturingInformation {
            production_date: self.date(),
            country: Some(self.pick(&COUNTRIES).to_string()),
            sites: Some(vec![v4::Site { site_id: self.bpns(), function: SiteFunction::Production }]),
        };
        let local_identifiers = self.identifiers(model, &manufacturer);
        let manufacturer_part_id = self.manufacturer_part_id();
        let customer_part_id = format!("CPI-{}", self.digits(5));
        let part_classification = self.classification_v4();
        match model {
            Model::Batch => Payload::BatchV4(v4::Batch {
                global_asset_id,
                local_identifiers,
                manufacturing_information,
                part_type_information: v4::BatchPartTypeInformation {
                    manufacturer_part_id,
                    name_at_manufacturer: name,
                    part_classification: Some(part_classification),
                },
            }),
            Model::JustInSequencePart => Payload::JustInSequencePartV4(v4::JustInSequencePart {
                global_asset_id,
                local_identifiers,
                manufacturing_information,
                part_type_information: v4::JisPartTypeInformation {
                    manufacturer_part_id: Some(manufacturer_part_id),
                    customer_part_id: Some(customer_part_id),
                    name_at_customer: Some(name.to_lowercase()),
                    name_at_manufacturer: name,
                    part_classification: Some(part_classification),
                },
            }),
            _ => Payload::SerialPartV4(v4::SerialPart {
                global_asset_id,
                local_identifiers,
                manufacturing_information,
                part_type_information: v4::SerialPartTypeInformation {
                    manufacturer_part_id: Some(manufacturer_part_id),
                    customer_part_id,
                    name_at_manufacturer: Some(name.clone()),
                    name_at_customer: name.to_lowercase(),
                    part_classification,
                },
            }),
        }
    }

    fn child_v3(&mut self, id: String, supplier: String, quantity: Quantity) -> v3::ChildItem {
        v3::ChildItem {
            catena_x_id: id,
            quantity,
            has_alternatives: false,
            created_on: self.date_time(),
            business_partner: supplier,
            last_modified_on: Some(self.date_time()),
        }
    }

    fn parent_v3(&mut self, id: String, manufacturer: String, quantity: Option<Quantity>) -> v3::ParentItem {
        v3::ParentItem {
            catena_x_id: id,
            quantity,
            is_only_potential_parent: false,
            created_on: self.date_time(),
            business_partner: manufacturer,
            last_modified_on: Some(self.date_time()),
        }
    }

    /// One valid record of any bundled aspect.
    pub fn payload(&mut self, aspect: Aspect) -> Payload {
        let v4 = aspect.version == Version::V4_0_0;
        match aspect.model {
            model if model.identifies_part() && v4 => self.part_v4(model),
            model if model.identifies_part() => {
                let id = self.catena_x_id();
                let manufacturer = self.bpnl();
                let name = self.pick(&PART_NAMES).to_string();
                self.part_v3(model, id, &manufacturer, &name)
            }
            Model::SingleLevelBomAsBuilt => {
                let parent = self.catena_x_id();
                let children: Vec<v3::ChildItem> = (0..self.rng.random_range(1..=4))
                    .map(|_| {
                        let (id, supplier, quantity) = (self.catena_x_id(), self.bpnl(), self.any_quantity());
                        self.child_v3(id, supplier, quantity)
                    })
                    .collect();
                if v4 {
                    Payload::BomV4(v4::SingleLevelBomAsBuilt {
                        global_asset_id: parent,
                        child_items: children.into_iter().map(child_to_v4).collect(),
                    })
                } else {
                    Payload::BomV3(v3::SingleLevelBomAsBuilt { catena_x_id: parent, child_items: children })
                }
            }
            _ => {
                let child = self.catena_x_id();
                let manufacturer = self.bpnl();
                let parent_id = self.catena_x_id();
                let quantity = Some(self.any_quantity());
                let parent = self.parent_v3(parent_id, manufacturer.clone(), quantity);
                if v4 {
                    Payload::UsageV4(v4::SingleLevelUsageAsBuilt {
                        global_asset_id: child,
                        customers: vec![manufacturer],
                        parent_items: vec![parent_to_v4(parent)],
                    })
                } else {
                    Payload::UsageV3(v3::SingleLevelUsageAsBuilt {
                        catena_x_id: child,
                        customers: vec![manufacturer],
                        parent_items: vec![parent],
                    })
                }
            }
        }
    }

    /// A consistent as-built structure at 3.0.0: a vehicle (SerialPart with a VAN) at the top, `fanout`
    /// children per part (SerialPart, JustInSequencePart or Batch) down to `levels` levels, a BoM record for every
    /// part with children and a usage record for every part with a parent.
    pub fn vehicle(&mut self, levels: usize, fanout: usize) -> Structure {
        let mut structure = Structure::default();
        let root = self.catena_x_id();
        let oem = self.bpnl();
        let mut vehicle = self.part_v3(Model::SerialPart, root.clone(), &oem, "Vehicle");
        if let Payload::SerialPartV3(part) = &mut vehicle {
            let van = format!("WVW{}", self.digits(14));
            part.local_identifiers = vec![
                LocalIdentifier { key: "manufacturerId".into(), value: oem.clone() },
                LocalIdentifier { key: "partInstanceId".into(), value: van.clone() },
                LocalIdentifier { key: "van".into(), value: van },
            ];
        }
        structure.parts.push(vehicle);
        structure.root = root.clone();
        let mut level = vec![(root, oem)];
        for depth in 1..levels {
            let mut next = Vec::new();
            for (parent, parent_manufacturer) in &level {
                let mut child_items = Vec::new();
                for _ in 0..fanout {
                    let model = match (depth + next.len()) % 3 {
                        0 => Model::Batch,
                        1 => Model::SerialPart,
                        _ => Model::JustInSequencePart,
                    };
                    let (child, supplier) = (self.catena_x_id(), self.bpnl());
                    let name = self.pick(&PART_NAMES).to_string();
                    let part = self.part_v3(model, child.clone(), &supplier, &name);
                    structure.parts.push(part);
                    let quantity = self.quantity(model);
                    let item = self.child_v3(child.clone(), supplier.clone(), quantity);
                    let parent_item =
                        self.parent_v3(parent.clone(), parent_manufacturer.clone(), Some(item.quantity.clone()));
                    structure.usages.push(Payload::UsageV3(v3::SingleLevelUsageAsBuilt {
                        catena_x_id: child.clone(),
                        customers: vec![parent_manufacturer.clone()],
                        parent_items: vec![parent_item],
                    }));
                    structure.children.entry(parent.clone()).or_default().push(child.clone());
                    child_items.push(item);
                    next.push((child, supplier));
                }
                structure
                    .boms
                    .push(Payload::BomV3(v3::SingleLevelBomAsBuilt { catena_x_id: parent.clone(), child_items }));
            }
            level = next;
        }
        structure
    }
}

fn child_to_v4(child: v3::ChildItem) -> v4::ChildItem {
    v4::ChildItem {
        global_asset_id: child.catena_x_id,
        quantity: child.quantity,
        has_alternatives: child.has_alternatives,
        created_on: child.created_on,
        business_partner: child.business_partner,
        last_modified_on: child.last_modified_on,
    }
}

fn parent_to_v4(parent: v3::ParentItem) -> v4::ParentItem {
    v4::ParentItem {
        global_asset_id: parent.catena_x_id,
        quantity: parent.quantity,
        is_only_potential_parent: parent.is_only_potential_parent,
        created_on: parent.created_on,
        business_partner: parent.business_partner,
        last_modified_on: parent.last_modified_on,
    }
}

/// A generated as-built structure and the truth about it.
#[derive(Debug, Default, Clone)]
pub struct Structure {
    /// The vehicle's Catena-X id.
    pub root: String,
    /// SerialPart, Batch and JustInSequencePart records, one per part.
    pub parts: Vec<Payload>,
    /// SingleLevelBomAsBuilt records, one per part with children.
    pub boms: Vec<Payload>,
    /// SingleLevelUsageAsBuilt records, one per part with a parent.
    pub usages: Vec<Payload>,
    /// Parent id → child ids in the order generated.
    pub children: BTreeMap<String, Vec<String>>,
}

impl Structure {
    /// Every record, parts first.
    pub fn records(&self) -> impl Iterator<Item = &Payload> {
        self.parts.iter().chain(&self.boms).chain(&self.usages)
    }
}
