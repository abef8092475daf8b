//! `multipart/form-data` bodies from typed request structs (progenitor cannot send them).

use std::borrow::Cow;
use std::fmt;

use progenitor_client::Error;
use serde::ser::{self, Impossible, Serialize};

/// Build a `multipart/form-data` body from a request type of scalar fields: one text part per
/// field that is set, named as in the spec (the serde name), in the order of the fields. `None`
/// fields (and non-finite numbers, as JSON has none) are left out; a nested value is refused.
///
/// The fields are serialized straight into the form's parts, without an intermediate JSON
/// value: this runs on every request.
///
/// Returns progenitor's `Error` (large, as every generated method's is) so that the generated
/// code can use `?` on it.
#[allow(clippy::result_large_err)]
pub fn multipart_form<T: serde::Serialize + ?Sized, E>(
    body: &T,
) -> Result<reqwest::multipart::Form, Error<E>> {
    body.serialize(Fields(reqwest::multipart::Form::new()))
        .map_err(|FormError(reason)| Error::InvalidRequest(reason))
}

/// Why a body cannot be sent as a form.
#[derive(Debug)]
struct FormError(String);

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormError {}

impl ser::Error for FormError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(format!("cannot serialize the multipart body: {msg}"))
    }
}

fn not_an_object() -> FormError {
    FormError("the multipart body is not an object".to_string())
}

/// The body: a struct or a map, each field a part.
struct Fields(reqwest::multipart::Form);

/// The body's parts so far, and a map's key waiting for its value.
struct Parts(Option<reqwest::multipart::Form>, Option<String>);

impl Parts {
    fn field<T: Serialize + ?Sized>(
        &mut self,
        name: Cow<'static, str>,
        value: &T,
    ) -> Result<(), FormError> {
        let text = value.serialize(Text).map_err(|e| match e {
            NotText::Nested => FormError(format!("multipart field `{name}` is not a scalar")),
            NotText::Other(e) => e,
        })?;
        if let Some(text) = text
            && let Some(form) = self.0.take()
        {
            self.0 = Some(form.text(name, text));
        }
        Ok(())
    }

    /// The form (always there: `field` puts it back before returning).
    fn finish(self) -> Result<reqwest::multipart::Form, FormError> {
        self.0
            .ok_or_else(|| FormError("the multipart body was left unfinished".into()))
    }
}

macro_rules! refuse {
    ($err:expr; $($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ret, Self::Error> { Err($err) })*
    };
}

/// The methods both serializers share: `Some` and newtype structs are their inner value; an
/// enum variant with data is refused with `$err`.
macro_rules! transparent_and_no_variants {
    ($err:expr) => {
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, Self::Error> {
            value.serialize(self)
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<Self::Ok, Self::Error> {
            value.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Self::Error> {
            Err($err)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Self::Error> {
            Err($err)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Self::Error> {
            Err($err)
        }
    };
}

impl ser::Serializer for Fields {
    type Ok = reqwest::multipart::Form;
    type Error = FormError;
    type SerializeSeq = Impossible<Self::Ok, FormError>;
    type SerializeTuple = Impossible<Self::Ok, FormError>;
    type SerializeTupleStruct = Impossible<Self::Ok, FormError>;
    type SerializeTupleVariant = Impossible<Self::Ok, FormError>;
    type SerializeMap = Parts;
    type SerializeStruct = Parts;
    type SerializeStructVariant = Impossible<Self::Ok, FormError>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Parts, FormError> {
        Ok(Parts(Some(self.0), None))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Parts, FormError> {
        Ok(Parts(Some(self.0), None))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<Self::Ok, FormError> {
        Err(not_an_object())
    }
    transparent_and_no_variants!(not_an_object());
    refuse! { not_an_object();
        serialize_bool(bool) -> Self::Ok;
        serialize_i8(i8) -> Self::Ok;
        serialize_i16(i16) -> Self::Ok;
        serialize_i32(i32) -> Self::Ok;
        serialize_i64(i64) -> Self::Ok;
        serialize_u8(u8) -> Self::Ok;
        serialize_u16(u16) -> Self::Ok;
        serialize_u32(u32) -> Self::Ok;
        serialize_u64(u64) -> Self::Ok;
        serialize_f32(f32) -> Self::Ok;
        serialize_f64(f64) -> Self::Ok;
        serialize_char(char) -> Self::Ok;
        serialize_str(&str) -> Self::Ok;
        serialize_bytes(&[u8]) -> Self::Ok;
        serialize_none() -> Self::Ok;
        serialize_unit() -> Self::Ok;
        serialize_unit_struct(&'static str) -> Self::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
    }
}

impl ser::SerializeStruct for Parts {
    type Ok = reqwest::multipart::Form;
    type Error = FormError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), FormError> {
        self.field(Cow::Borrowed(key), value)
    }
    fn end(self) -> Result<Self::Ok, FormError> {
        self.finish()
    }
}

impl ser::SerializeMap for Parts {
    type Ok = reqwest::multipart::Form;
    type Error = FormError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), FormError> {
        // Keys as JSON would write them: strings, or numbers written out.
        match key.serialize(Text) {
            Ok(Some(name)) => {
                self.1 = Some(name);
                Ok(())
            }
            _ => Err(FormError(
                "a multipart field name is not a string".to_string(),
            )),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FormError> {
        let name = self
            .1
            .take()
            .ok_or_else(|| FormError("a map value without its key".into()))?;
        self.field(Cow::Owned(name), value)
    }
    fn end(self) -> Result<Self::Ok, FormError> {
        self.finish()
    }
}

/// Why a field is not a text part.
enum NotText {
    /// A sequence, map, struct or enum with data.
    Nested,
    /// The field's own `Serialize` failed.
    Other(FormError),
}

impl fmt::Debug for NotText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotText::Nested => "nested",
            NotText::Other(e) => &e.0,
        })
    }
}

impl fmt::Display for NotText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for NotText {}

impl ser::Error for NotText {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        NotText::Other(FormError::custom(msg))
    }
}

/// A field's value as the text JSON would give it (`None` for null: the part is left out).
struct Text;

impl ser::Serializer for Text {
    type Ok = Option<String>;
    type Error = NotText;
    type SerializeSeq = Impossible<Self::Ok, NotText>;
    type SerializeTuple = Impossible<Self::Ok, NotText>;
    type SerializeTupleStruct = Impossible<Self::Ok, NotText>;
    type SerializeTupleVariant = Impossible<Self::Ok, NotText>;
    type SerializeMap = Impossible<Self::Ok, NotText>;
    type SerializeStruct = Impossible<Self::Ok, NotText>;
    type SerializeStructVariant = Impossible<Self::Ok, NotText>;

    fn serialize_str(self, v: &str) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_bool(self, v: bool) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_i8(self, v: i8) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_i16(self, v: i16) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_i32(self, v: i32) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_i64(self, v: i64) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_i128(self, v: i128) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_u16(self, v: u16) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_u32(self, v: u32) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_u64(self, v: u64) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_u128(self, v: u128) -> Result<Self::Ok, NotText> {
        Ok(Some(v.to_string()))
    }
    fn serialize_f32(self, v: f32) -> Result<Self::Ok, NotText> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Self::Ok, NotText> {
        // As JSON writes numbers; JSON has no NaN or infinity (they become null).
        Ok(serde_json::Number::from_f64(v).map(|n| n.to_string()))
    }
    fn serialize_none(self) -> Result<Self::Ok, NotText> {
        Ok(None)
    }
    fn serialize_unit(self) -> Result<Self::Ok, NotText> {
        Ok(None)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Self::Ok, NotText> {
        Ok(None)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, NotText> {
        Ok(Some(variant.to_string()))
    }
    transparent_and_no_variants!(NotText::Nested);
    refuse! { NotText::Nested;
        serialize_bytes(&[u8]) -> Self::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use futures_util::TryStreamExt;

    use super::*;

    /// The parts of a form as sent: `(name, text)` in order.
    fn parts(form: reqwest::multipart::Form) -> Vec<(String, String)> {
        let boundary = form.boundary().to_string();
        let chunks: Vec<bytes::Bytes> = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(form.into_stream().try_collect())
            .unwrap();
        let body = String::from_utf8(chunks.concat()).unwrap();
        body.split(&format!("--{boundary}"))
            .filter_map(|part| {
                let (head, text) = part.split_once("\r\n\r\n")?;
                let name = head.split("name=\"").nth(1)?.split('"').next()?;
                Some((name.to_string(), text.trim_end_matches("\r\n").to_string()))
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    enum Kind {
        FullSync,
    }

    #[derive(serde::Serialize)]
    struct Body {
        client_org: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        count: Option<u32>,
        unset: Option<u32>,
        flag: bool,
        ratio: f64,
        nan: f64,
        kind: Kind,
        #[serde(rename = "x-id")]
        id: i64,
    }

    #[test]
    fn scalar_fields_become_text_parts_in_order() {
        let form = multipart_form::<_, ()>(&Body {
            client_org: "acme \"eu\"".into(),
            note: None,
            count: Some(3),
            unset: None,
            flag: true,
            ratio: 0.5,
            nan: f64::NAN,
            kind: Kind::FullSync,
            id: -7,
        })
        .unwrap();
        assert_eq!(
            parts(form),
            pairs(&[
                ("client_org", "acme \"eu\""),
                ("count", "3"),
                ("flag", "true"),
                ("ratio", "0.5"),
                ("kind", "fullSync"),
                ("x-id", "-7"),
            ])
        );
    }

    #[test]
    fn maps_are_forms_too() {
        let map = BTreeMap::from([("b", Some("2")), ("a", Some("1")), ("c", None)]);
        let form = multipart_form::<_, ()>(&map).unwrap();
        assert_eq!(parts(form), pairs(&[("a", "1"), ("b", "2")]));
    }

    #[test]
    fn non_scalars_and_non_objects_are_refused() {
        #[derive(serde::Serialize)]
        struct Nested {
            inner: Vec<u8>,
        }
        let err = multipart_form::<_, ()>(&Nested { inner: vec![1] }).unwrap_err();
        assert!(err.to_string().contains("`inner` is not a scalar"), "{err}");
        for err in [
            multipart_form::<_, ()>(&"text").unwrap_err(),
            multipart_form::<_, ()>(&3).unwrap_err(),
            multipart_form::<_, ()>(&[1, 2]).unwrap_err(),
            multipart_form::<_, ()>(&Kind::FullSync).unwrap_err(),
        ] {
            assert!(err.to_string().contains("not an object"), "{err}");
        }
    }

    #[test]
    fn a_failing_field_is_reported() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: ser::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(ser::Error::custom("no value"))
            }
        }
        #[derive(serde::Serialize)]
        struct Body {
            field: Fails,
        }
        let err = multipart_form::<_, ()>(&Body { field: Fails }).unwrap_err();
        assert!(err.to_string().contains("no value"), "{err}");
    }
}
