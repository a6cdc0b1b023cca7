// SPDX-License-Identifier: Apache-2.0
//! Reading answers of other participants' servers (credential services, status lists, schemas, directories) with a
//! bound on their size: a DID document names any URL, so whatever answers there must not be able to exhaust memory.

/// The most this connector reads of one answer: far above any presentation, status list or directory seen in
/// practice (a 16 KiB status list, a few KiB per credential).
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// The body of `response`, at most [`MAX_ANSWER_BYTES`].
pub async fn bounded_body(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|length| length > MAX_ANSWER_BYTES as u64) {
        return Err(format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// [`bounded_body`] as UTF-8 text.
pub async fn bounded_text(response: reqwest::Response) -> Result<String, String> {
    String::from_utf8(bounded_body(response).await?).map_err(|_| "the answer is not UTF-8 text".to_string())
}
