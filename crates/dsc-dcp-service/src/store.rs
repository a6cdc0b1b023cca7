// SPDX-License-Identifier: Apache-2.0
//! The holder's credentials in the connector's database (dsc-store's plug-in access: shared pool, the connected
//! dialect, migrations recorded under [`MIGRATIONS`]'s module name).

use async_trait::async_trait;
use dsc_dcp::credential::{Credential, Profile};
use dsc_store::{Arg, PluginMigration, PluginMigrations, SqlStore, StoreError, column};
use serde::Serialize;

pub const MIGRATIONS: PluginMigrations = PluginMigrations {
    module: "dcp",
    migrations: &[PluginMigration {
        version: 1,
        description: "dcp credentials",
        sqlite: include_str!("../migrations/sqlite/0001_dcp_credentials.sql"),
        postgres: include_str!("../migrations/postgres/0001_dcp_credentials.sql"),
    }],
};

const ENTITY: &str = "VerifiableCredential";

/// A stored credential: what the Management API shows (everything but the JWT) and the JWT the credential service
/// presents.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredCredential {
    pub id: String,
    pub created_at: i64,
    /// Specific types, short names.
    pub types: Vec<String>,
    pub issuer: String,
    pub holder: String,
    pub profile: String,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    #[serde(skip)]
    pub jwt: String,
}

impl StoredCredential {
    /// Reads a credential JWT (not verified: the holder stores what it was given; verifiers check it).
    pub fn from_jwt(jwt: &str, created_at: i64) -> Result<Self, dsc_dcp::DcpError> {
        let credential = Credential::from_jwt(jwt.trim(), "the credential")?;
        let holder = credential
            .subjects
            .iter()
            .find_map(|s| s.get("id").and_then(serde_json::Value::as_str))
            .ok_or_else(|| dsc_dcp::DcpError::InvalidInput("the credential's subject has no id".into()))?
            .to_string();
        let id = credential.id.clone().unwrap_or_else(|| format!("urn:uuid:{}", uuid_from(jwt)));
        Ok(StoredCredential {
            id,
            created_at,
            types: credential.specific_types().map(str::to_string).collect(),
            issuer: credential.issuer.clone(),
            holder,
            profile: credential.profile.as_str().to_string(),
            valid_from: credential.valid_from,
            valid_until: credential.valid_until,
            jwt: jwt.trim().to_string(),
        })
    }

    pub fn profile(&self) -> Option<Profile> {
        Profile::parse(&self.profile)
    }

    pub fn has_type(&self, credential_type: &str) -> bool {
        self.types.iter().any(|t| t == credential_type)
    }
}

/// A stable id for a credential without one: derived from its content, so storing it twice does not duplicate it.
fn uuid_from(jwt: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    jwt.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Stores or replaces (same id) a credential.
    async fn put_credential(&self, credential: &StoredCredential) -> Result<(), StoreError>;
    /// Every credential, oldest first.
    async fn credentials(&self) -> Result<Vec<StoredCredential>, StoreError>;
    async fn delete_credential(&self, id: &str) -> Result<(), StoreError>;
}

fn from_row(row: &dsc_store::AnyRow) -> Result<StoredCredential, StoreError> {
    let types: String = column(row, "types")?;
    Ok(StoredCredential {
        id: column(row, "id")?,
        created_at: column(row, "created_at")?,
        types: types.split_whitespace().map(str::to_string).collect(),
        issuer: column(row, "issuer")?,
        holder: column(row, "holder")?,
        profile: column(row, "profile")?,
        valid_from: column(row, "valid_from")?,
        valid_until: column(row, "valid_until")?,
        jwt: column(row, "jwt")?,
    })
}

#[async_trait]
impl CredentialStore for SqlStore {
    async fn put_credential(&self, credential: &StoredCredential) -> Result<(), StoreError> {
        let sql = self.plugin_sql();
        let mut delete = sql.builder();
        delete.push("DELETE FROM dsc_dcp_credential WHERE id = ");
        delete.bind(Arg::Text(credential.id.clone()));
        sql.execute(&delete).await?;
        let mut query = sql.builder();
        query.push(
            "INSERT INTO dsc_dcp_credential (id, created_at, types, issuer, holder, profile, valid_from, valid_until, jwt) VALUES (",
        );
        let values = [
            Arg::Text(credential.id.clone()),
            Arg::Int(credential.created_at),
            Arg::Text(credential.types.join(" ")),
            Arg::Text(credential.issuer.clone()),
            Arg::Text(credential.holder.clone()),
            Arg::Text(credential.profile.clone()),
            Arg::OptInt(credential.valid_from),
            Arg::OptInt(credential.valid_until),
            Arg::Text(credential.jwt.clone()),
        ];
        for (index, value) in values.into_iter().enumerate() {
            query.push(if index == 0 { "" } else { ", " });
            query.bind(value);
        }
        query.push(")");
        sql.insert(&query, ENTITY, &credential.id).await
    }

    async fn credentials(&self) -> Result<Vec<StoredCredential>, StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("SELECT * FROM dsc_dcp_credential ORDER BY created_at, id");
        sql.fetch_all(&query).await?.iter().map(from_row).collect()
    }

    async fn delete_credential(&self, id: &str) -> Result<(), StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("DELETE FROM dsc_dcp_credential WHERE id = ");
        query.bind(Arg::Text(id.to_string()));
        match sql.execute(&query).await? {
            0 => Err(StoreError::NotFound { entity: ENTITY, id: id.to_string() }),
            _ => Ok(()),
        }
    }
}
