//! Fake Tartan HyperSync: `POST /api/terminate_connection/`.
//!
//! | situation | status | body |
//! |---|---|---|
//! | `Authorization` is not exactly the key | 401 | `{requestId, message, data}` |
//! | body not multipart, or no `client_org` part | 400 | `{message, data}` |
//! | unknown `client_org` | 404 | `{code: 404, message, data}` |
//! | a data sync is running for the org | 400 | `{message, data}` |
//! | already terminated | 409 | `{status: 409, message, data}` |
//! | otherwise: terminated now | 200 | `{message, data}` |

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use crate::reply::{Incoming, Reply};

/// One Tartan connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TartanConnection {
    /// Terminated already.
    pub terminated: bool,
    /// A data sync runs until this instant.
    pub sync_until: Option<Instant>,
}

/// All Tartan connections, by `client_org`.
#[derive(Debug, Default)]
pub struct TartanState {
    pub(crate) connections: HashMap<String, TartanConnection>,
}

impl TartanState {
    /// Add (or reset) a connection.
    pub fn seed(&mut self, client_org: &str, terminated: bool) {
        self.connections.insert(
            client_org.to_string(),
            TartanConnection {
                terminated,
                sync_until: None,
            },
        );
    }

    /// Start a data sync for `client_org` that ends by itself after `duration`. Returns false for
    /// an unknown org.
    pub fn start_sync(&mut self, client_org: &str, duration: Duration, now: Instant) -> bool {
        match self.connections.get_mut(client_org) {
            Some(c) => {
                c.sync_until = Some(now + duration);
                true
            }
            None => false,
        }
    }

    /// The connection for `client_org`.
    pub fn get(&self, client_org: &str) -> Option<&TartanConnection> {
        self.connections.get(client_org)
    }

    pub(crate) fn handle(&mut self, api_key: &str, req: &Incoming<'_>, now: Instant) -> Reply {
        if req.path != "/api/terminate_connection/" {
            return Reply::json(404, json!({"detail": "Not found."}));
        }
        if req.method != axum::http::Method::POST {
            return Reply::json(
                405,
                json!({"detail": format!("Method \"{}\" not allowed.", req.method)}),
            );
        }
        if req.header("authorization") != Some(api_key) {
            let message = if req.headers.contains_key("authorization") {
                "Invalid token."
            } else {
                "Authentication credentials were not provided."
            };
            return Reply::json(
                401,
                json!({"requestId": uuid::Uuid::from_u128(u128::from(req.seq)).to_string(), "message": message, "data": null}),
            );
        }
        let client_org = match req.multipart {
            Some(Ok(parts)) => parts
                .iter()
                .find(|(n, _)| n == "client_org")
                .map(|(_, v)| v.clone()),
            _ => None,
        };
        let Some(client_org) = client_org.filter(|c| !c.trim().is_empty()) else {
            return Reply::json(
                400,
                json!({"message": "client_org is required (multipart/form-data field)", "data": null}),
            );
        };
        let Some(connection) = self.connections.get_mut(&client_org) else {
            return Reply::json(
                404,
                json!({"code": 404, "message": "No organisation found with the given client_org", "data": null}),
            );
        };
        if connection.terminated {
            return Reply::json(
                409,
                json!({"status": 409, "message": "Conflict! Connection already terminated", "data": null}),
            );
        }
        if connection.sync_until.is_some_and(|until| now < until) {
            return Reply::json(
                400,
                json!({"message": "Connection cannot be terminated while sync is in progress", "data": null}),
            );
        }
        connection.terminated = true;
        connection.sync_until = None;
        Reply::json(
            200,
            json!({"message": "Connection terminated successfully", "data": null}),
        )
    }
}
