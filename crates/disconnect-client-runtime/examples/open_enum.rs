//! An open enum, as the generated clients declare their response enums: a value the vendor adds
//! after the client was generated decodes (into `Unknown`, keeping its text) instead of failing
//! the whole answer.
//!
//! `cargo run -p disconnect-client-runtime --example open_enum`

use disconnect_client_runtime::{UnknownValue, open_enum};

/// A connection's state, as a vendor documents it today.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum State {
    /// `ACTIVE`
    Active,
    /// `DELETED`
    Deleted,
    /// A value added later, as sent.
    Unknown(UnknownValue),
}
open_enum!(State { Active => "ACTIVE", Deleted => "DELETED" });

fn main() -> Result<(), serde_json::Error> {
    for body in [r#""DELETED""#, r#""ARCHIVED""#] {
        let state: State = serde_json::from_str(body)?;
        println!(
            "{body} -> {state:?} (known: {}, prints as {state})",
            !state.is_unknown()
        );
    }
    println!("documented values: {:?}", State::KNOWN_VALUES);
    Ok(())
}
