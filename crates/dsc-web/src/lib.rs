// SPDX-License-Identifier: Apache-2.0
//! HTTP plumbing shared by every API of the connector.
//!
//! Invariant: every error a client sees is an [`ApiError`] rendered in EDC's shape (a JSON array of
//! `{message, type, path, invalidValue}`); internal details go to the log with a correlation id, never into a
//! response.

mod auth;
mod body;
mod error;
pub mod health;
mod request_metrics;
mod server;

pub use auth::{ApiKey, require_api_key, require_bearer_key};
pub use body::JsonBody;
pub use error::{ApiError, ErrorKind};
pub use request_metrics::measured;
pub use server::{Bound, ContextRouter, Limits, bind, bind_with, serve};
