//! One adapter per vendor.

#[cfg(feature = "leen")]
pub(crate) mod leen;
#[cfg(feature = "persona")]
pub(crate) mod persona;
#[cfg(feature = "tartan")]
pub(crate) mod tartan;
