//! `multipart/form-data` bodies from typed request structs (progenitor cannot send them).

use progenitor_client::Error;

/// Build a `multipart/form-data` body from a request type of scalar fields: one text part per
/// field that is set, named as in the spec (the serde name). `None` fields are left out.
///
/// Returns progenitor's `Error` (large, as every generated method's is) so that the generated
/// code can use `?` on it.
#[allow(clippy::result_large_err)]
pub fn multipart_form<T: serde::Serialize + ?Sized, E>(
    body: &T,
) -> Result<reqwest::multipart::Form, Error<E>> {
    let value = serde_json::to_value(body)
        .map_err(|e| Error::InvalidRequest(format!("cannot serialize the multipart body: {e}")))?;
    let serde_json::Value::Object(fields) = value else {
        return Err(Error::InvalidRequest(
            "the multipart body is not an object".to_string(),
        ));
    };
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(text) => text,
            serde_json::Value::Bool(_) | serde_json::Value::Number(_) => value.to_string(),
            _ => {
                return Err(Error::InvalidRequest(format!(
                    "multipart field `{name}` is not a scalar"
                )));
            }
        };
        form = form.text(name, text);
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Body {
        client_org: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        count: Option<u32>,
        flag: bool,
    }

    #[test]
    fn scalar_fields_become_text_parts() {
        let form = multipart_form::<_, ()>(&Body {
            client_org: "acme".into(),
            note: None,
            count: Some(3),
            flag: true,
        })
        .unwrap();
        // reqwest does not expose the parts; the boundary exists and the build succeeded.
        assert!(!form.boundary().is_empty());
    }

    #[test]
    fn non_scalars_and_non_objects_are_refused() {
        #[derive(serde::Serialize)]
        struct Nested {
            inner: Vec<u8>,
        }
        let err = multipart_form::<_, ()>(&Nested { inner: vec![1] }).unwrap_err();
        assert!(err.to_string().contains("`inner` is not a scalar"), "{err}");
        let err = multipart_form::<_, ()>(&"text").unwrap_err();
        assert!(err.to_string().contains("not an object"), "{err}");
    }
}
