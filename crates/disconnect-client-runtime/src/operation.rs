//! What the spec documents about one operation, generated into each client's `operations`.

/// An operation as its spec documents it: the generated `operations` module of each client
/// holds one of these per operation, and `operations::ALL` lists them, so that fakes, tests and
/// fuzzers take statuses and paths from the spec rather than from copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The spec's `operationId` (after the xtask's transforms).
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template below the base URL, as in the spec.
    pub path: &'static str,
    /// Documented success statuses (2xx), ascending.
    pub success_statuses: &'static [u16],
    /// Documented error statuses (4xx, 5xx), ascending.
    pub error_statuses: &'static [u16],
}

impl Operation {
    /// Build one (used by generated code).
    pub const fn new(
        id: &'static str,
        method: &'static str,
        path: &'static str,
        success_statuses: &'static [u16],
        error_statuses: &'static [u16],
    ) -> Self {
        Self {
            id,
            method,
            path,
            success_statuses,
            error_statuses,
        }
    }

    /// Whether the spec documents `status` for this operation.
    pub fn documents(&self, status: u16) -> bool {
        self.success_statuses.contains(&status) || self.error_statuses.contains(&status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_statuses() {
        const OP: Operation = Operation::new("op", "POST", "/x", &[200], &[400, 409]);
        assert!(OP.documents(200) && OP.documents(409));
        assert!(!OP.documents(500));
    }
}
