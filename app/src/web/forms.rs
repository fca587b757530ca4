//! Form plumbing shared by every area: the `?validate=1` mode of a form POST, and reading
//! multipart forms (with one optional file) within a size limit. Field errors and
//! `SaveError` are domain types: `crate::validation`.

use std::collections::BTreeMap;

use poem::web::{Field, Multipart};

use super::middleware::MAX_FORM_BODY_BYTES;
use crate::i18n::phrase;
use crate::validation::FieldErrors;

/// The query of a form POST: `?validate=1` checks and shows errors, saves nothing (the
/// inline validation while typing).
#[derive(Debug, Default, serde::Deserialize)]
pub struct FormMode {
    #[serde(default)]
    pub validate: Option<String>,
}

impl FormMode {
    pub fn only_validate(&self) -> bool {
        self.validate.is_some()
    }
}

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// The text fields and non-empty files of a multipart form, and the fields that could
/// not be read (a file over the limit) with the message for each.
#[derive(Debug, Default)]
pub struct MultipartForm {
    pub fields: BTreeMap<String, String>,
    pub files: BTreeMap<String, Upload>,
    pub errors: FieldErrors,
}

impl MultipartForm {
    pub fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    /// Reads the whole form; a file larger than `max_file_bytes`, or a text field larger
    /// than `MAX_FORM_BODY_BYTES`, is an error for that field (neither is kept in memory
    /// past its limit), reported as `Err((field, message))` so it lands next to the right
    /// input. The body as a whole is cut by `limit_body`.
    pub async fn read(
        mut multipart: Multipart,
        max_file_bytes: usize,
    ) -> Result<Self, (String, String)> {
        let max_text_bytes = usize::try_from(MAX_FORM_BODY_BYTES).unwrap_or(usize::MAX);
        let mut form = MultipartForm::default();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => {
                    return Err((
                        String::new(),
                        phrase("site-form-unreadable", &[("detail", &e)]),
                    ));
                }
            };
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let limit = if file_name.is_some() {
                max_file_bytes
            } else {
                max_text_bytes
            };
            let bytes = read_at_most(field, limit).await.map_err(|e| {
                (
                    name.clone(),
                    phrase("site-field-unreadable", &[("detail", &e)]),
                )
            })?;
            let Some(bytes) = bytes else {
                let id = if file_name.is_some() {
                    "site-file-too-large"
                } else {
                    "site-text-too-large"
                };
                let megabytes = limit.div_ceil(1024 * 1024);
                form.errors.add(&name, phrase(id, &[("count", &megabytes)]));
                continue;
            };
            if file_name.is_some() {
                if !bytes.is_empty() {
                    form.files.insert(name, Upload { file_name, bytes });
                }
            } else {
                let value = String::from_utf8(bytes).map_err(|_| {
                    (
                        name.clone(),
                        "This field could not be read: it is not UTF-8 text.".to_owned(),
                    )
                })?;
                form.fields.insert(name, value);
            }
        }
        Ok(form)
    }
}

/// The bytes of a multipart field, or `None` when it holds more than `limit`: past the
/// limit the rest is read and dropped, to reach the next fields.
async fn read_at_most(field: Field, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    let mut too_large = false;
    let mut reader = field.into_async_read();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if !too_large {
            bytes.extend_from_slice(&buf[..n]);
            if bytes.len() > limit {
                too_large = true;
                bytes = Vec::new();
            }
        }
    }
    Ok((!too_large).then_some(bytes))
}
