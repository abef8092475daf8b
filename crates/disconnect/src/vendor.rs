//! [`Vendor`]: which API a target lives at.

use std::fmt;
use std::str::FromStr;

/// One of the supported vendors.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// Tartan HyperSync.
    Tartan,
    /// Persona Connect.
    Persona,
    /// Leen.
    Leen,
}

impl Vendor {
    /// Every vendor.
    pub const ALL: [Vendor; 3] = [Vendor::Tartan, Vendor::Persona, Vendor::Leen];

    /// The lower-case id used in targets (`tartan`).
    pub fn id(self) -> &'static str {
        match self {
            Vendor::Tartan => "tartan",
            Vendor::Persona => "persona",
            Vendor::Leen => "leen",
        }
    }

    /// The display name (`Tartan`).
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Tartan => "Tartan",
            Vendor::Persona => "Persona",
            Vendor::Leen => "Leen",
        }
    }

    /// The environment variable [`crate::Disconnector::from_env`] reads the API key from.
    pub fn api_key_var(self) -> &'static str {
        match self {
            Vendor::Tartan => "TARTAN_API_KEY",
            Vendor::Persona => "PERSONA_API_KEY",
            Vendor::Leen => "LEEN_API_KEY",
        }
    }

    /// The environment variable that overrides the base URL.
    pub fn base_url_var(self) -> &'static str {
        match self {
            Vendor::Tartan => "TARTAN_BASE_URL",
            Vendor::Persona => "PERSONA_BASE_URL",
            Vendor::Leen => "LEEN_BASE_URL",
        }
    }

    /// The base URL used when none is given: the first server of the vendor's spec, as in
    /// its `servers` (Tartan's is its `{env}` template at the default `dev`, so set
    /// `TARTAN_BASE_URL` for production).
    pub fn default_base_url(self) -> &'static str {
        match self {
            Vendor::Tartan => "https://dev.tartanhq.com",
            Vendor::Persona => "https://api.withpersona.com/api/v1",
            Vendor::Leen => "https://api.leen.dev/v1",
        }
    }

    /// The sha256 of the spec the vendor's client crate was generated from (`None` when the
    /// vendor's feature is off). Recorded in audit reports: it says which API contract a run
    /// was made with.
    pub fn spec_sha256(self) -> Option<&'static str> {
        match self {
            Vendor::Tartan => {
                #[cfg(feature = "tartan")]
                return Some(tartan_client::spec::SHA256);
                #[cfg(not(feature = "tartan"))]
                return None;
            }
            Vendor::Persona => {
                #[cfg(feature = "persona")]
                return Some(persona_client::spec::SHA256);
                #[cfg(not(feature = "persona"))]
                return None;
            }
            Vendor::Leen => {
                #[cfg(feature = "leen")]
                return Some(leen_client::spec::SHA256);
                #[cfg(not(feature = "leen"))]
                return None;
            }
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Vendor {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Vendor::ALL
            .into_iter()
            .find(|v| v.id().eq_ignore_ascii_case(s))
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_base_urls_are_the_specs_first_servers() {
        #[cfg(feature = "tartan")]
        assert_eq!(
            Vendor::Tartan.default_base_url(),
            tartan_client::servers::DEFAULT
        );
        #[cfg(feature = "persona")]
        assert_eq!(
            Vendor::Persona.default_base_url(),
            persona_client::servers::DEFAULT
        );
        #[cfg(feature = "leen")]
        assert_eq!(
            Vendor::Leen.default_base_url(),
            leen_client::servers::DEFAULT
        );
    }
}
