// SPDX-License-Identifier: Apache-2.0
//! The only document loader the processor uses: an in-memory map of bundled documents plus, for one call, the
//! compaction context. Anything else fails, so processing never touches the network.

use std::collections::HashMap;

use iref::{Iri, IriBuf};
use json_ld::{LoadError, Loader, RemoteDocument};

#[derive(Debug, thiserror::Error)]
#[error("context is not bundled with the connector")]
pub(crate) struct NotBundled;

pub(crate) struct BundledLoader<'a> {
    pub(crate) documents: &'a HashMap<IriBuf, RemoteDocument>,
    pub(crate) extra: Option<(&'a Iri, &'a RemoteDocument)>,
}

impl Loader for BundledLoader<'_> {
    async fn load(&self, url: &Iri) -> Result<RemoteDocument<IriBuf>, LoadError> {
        if let Some((extra_url, document)) = self.extra
            && extra_url == url
        {
            return Ok(document.clone());
        }
        self.documents.get(url).cloned().ok_or_else(|| LoadError::new(url.to_owned(), NotBundled))
    }
}
