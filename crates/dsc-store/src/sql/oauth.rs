// SPDX-License-Identifier: Apache-2.0
//! The built-in OAuth server's clients, refresh tokens and revoked access tokens in SQL.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use super::filter::{Arg, SqlBuilder};
use crate::{OAuthClientRecord, OAuthServerStore, RefreshTokenRecord, StoreError};

fn statement(store: &SqlStore, parts: &[&str], args: Vec<Arg>) -> SqlBuilder {
    let mut sql = SqlBuilder::new(store.dialect);
    let mut args = args.into_iter();
    for (index, part) in parts.iter().enumerate() {
        sql.push(part);
        if index + 1 < parts.len()
            && let Some(arg) = args.next()
        {
            sql.bind(arg);
        }
    }
    sql
}

/// `INSERT INTO <table> (<columns>) VALUES (<args>)`.
fn insert(store: &SqlStore, table: &str, columns: &[&str], args: Vec<Arg>) -> SqlBuilder {
    let mut sql = SqlBuilder::new(store.dialect);
    sql.push(&format!("INSERT INTO {table} ({}) VALUES (", columns.join(", ")));
    for (index, arg) in args.into_iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.bind(arg);
    }
    sql.push(")");
    sql
}

#[async_trait]
impl OAuthServerStore for SqlStore {
    async fn create_oauth_client(&self, client: &OAuthClientRecord) -> Result<(), StoreError> {
        let sql = insert(
            self,
            "dsc_oauth_client",
            &["client_id", "created_at", "client_name", "secret_hash", "registration_token_hash"],
            vec![
                Arg::Text(client.client_id.clone()),
                Arg::Int(client.created_at),
                Arg::Text(client.client_name.clone()),
                Arg::Text(client.secret_hash.clone()),
                Arg::Text(client.registration_token_hash.clone()),
            ],
        );
        match sql.execute(&self.pool).await {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(StoreError::AlreadyExists { entity: "OAuthClient", id: client.client_id.clone() })
            }
            other => other.map(|_| ()).map_err(StoreError::from_sqlx),
        }
    }

    async fn find_oauth_client(&self, client_id: &str) -> Result<Option<OAuthClientRecord>, StoreError> {
        let sql = statement(
            self,
            &["SELECT * FROM dsc_oauth_client WHERE client_id = ", ""],
            vec![Arg::Text(client_id.into())],
        );
        let Some(row) = sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)? else { return Ok(None) };
        let text = |name: &str| row.try_get::<String, _>(name).map_err(StoreError::from_sqlx);
        Ok(Some(OAuthClientRecord {
            client_id: text("client_id")?,
            client_name: text("client_name")?,
            secret_hash: text("secret_hash")?,
            registration_token_hash: text("registration_token_hash")?,
            created_at: row.try_get::<i64, _>("created_at").map_err(StoreError::from_sqlx)?,
        }))
    }

    async fn delete_oauth_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let tokens = statement(
            self,
            &["DELETE FROM dsc_oauth_refresh_token WHERE client_id = ", ""],
            vec![Arg::Text(client_id.into())],
        );
        tokens.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
        let client = statement(
            self,
            &["DELETE FROM dsc_oauth_client WHERE client_id = ", ""],
            vec![Arg::Text(client_id.into())],
        );
        Ok(client.execute(&self.pool).await.map_err(StoreError::from_sqlx)?.rows_affected() > 0)
    }

    async fn create_refresh_token(&self, token: &RefreshTokenRecord) -> Result<(), StoreError> {
        let sql = insert(
            self,
            "dsc_oauth_refresh_token",
            &["token_hash", "client_id", "family", "used", "revoked", "expires_at"],
            vec![
                Arg::Text(token.token_hash.clone()),
                Arg::Text(token.client_id.clone()),
                Arg::Text(token.family.clone()),
                Arg::Int(i64::from(token.used)),
                Arg::Int(i64::from(token.revoked)),
                Arg::Int(token.expires_at),
            ],
        );
        sql.execute(&self.pool).await.map(|_| ()).map_err(StoreError::from_sqlx)
    }

    async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let sql = statement(
            self,
            &["SELECT * FROM dsc_oauth_refresh_token WHERE token_hash = ", ""],
            vec![Arg::Text(token_hash.into())],
        );
        let Some(row) = sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)? else { return Ok(None) };
        let text = |name: &str| row.try_get::<String, _>(name).map_err(StoreError::from_sqlx);
        let int = |name: &str| row.try_get::<i64, _>(name).map_err(StoreError::from_sqlx);
        Ok(Some(RefreshTokenRecord {
            token_hash: text("token_hash")?,
            client_id: text("client_id")?,
            family: text("family")?,
            used: int("used")? != 0,
            revoked: int("revoked")? != 0,
            expires_at: int("expires_at")?,
        }))
    }

    async fn use_refresh_token(&self, token_hash: &str) -> Result<bool, StoreError> {
        let sql = statement(
            self,
            &["UPDATE dsc_oauth_refresh_token SET used = 1 WHERE used = 0 AND token_hash = ", ""],
            vec![Arg::Text(token_hash.into())],
        );
        Ok(sql.execute(&self.pool).await.map_err(StoreError::from_sqlx)?.rows_affected() == 1)
    }

    async fn revoke_refresh_family(&self, family: &str) -> Result<(), StoreError> {
        let sql = statement(
            self,
            &["UPDATE dsc_oauth_refresh_token SET revoked = 1 WHERE family = ", ""],
            vec![Arg::Text(family.into())],
        );
        sql.execute(&self.pool).await.map(|_| ()).map_err(StoreError::from_sqlx)
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        let sql = statement(
            self,
            &[
                "INSERT INTO dsc_oauth_revoked_access (jti, expires_at) VALUES (",
                ", ",
                ") ON CONFLICT (jti) DO NOTHING",
            ],
            vec![Arg::Text(jti.into()), Arg::Int(expires_at)],
        );
        sql.execute(&self.pool).await.map(|_| ()).map_err(StoreError::from_sqlx)
    }

    async fn access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let sql = statement(
            self,
            &["SELECT jti FROM dsc_oauth_revoked_access WHERE jti = ", ""],
            vec![Arg::Text(jti.into())],
        );
        Ok(sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)?.is_some())
    }
}
