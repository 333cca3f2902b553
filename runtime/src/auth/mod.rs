//! Built-in authentication, as [`Hook`](crate::Hook)s: HTTP Basic from an htpasswd file
//! ([`BasicAuth`]) and bearer tokens checked by a function of yours ([`BearerAuth`]).
//!
//! Both check every upgrade before it is accepted (refusing with `401` and a
//! `volley-error-code` header) and, in the standalone server, every plain HTTP request
//! but `/healthz` and `/metrics`. What they learn about the caller is attached to the
//! connection, for handlers to read with
//! [`Context::extension`](crate::Context::extension):
//!
//! ```no_run
//! # fn f(ctx: &volley::Context) {
//! let user = ctx.extension::<volley::auth::User>();
//! # }
//! ```
//!
//! and, in axum routes, with `Extension<User>`.

mod basic;
mod bearer;

pub use basic::{BasicAuth, HtpasswdError};
pub use bearer::BearerAuth;

/// The user a [`BasicAuth`] let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name, as in the htpasswd file.
    pub name: String,
}
