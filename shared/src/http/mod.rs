//! The HTTP edge: the parsed incoming request, field validation, the
//! response envelope and the one error type that knows status codes.

mod error;
mod form;
mod incoming;
mod reply;

pub use error::{ApiError, ErrorCode, FieldIssue};
pub use form::Form;
pub use form::value as form_value;
pub use incoming::{Incoming, error_chain};
pub use reply::Reply;

pub type ApiResult = Result<Reply, ApiError>;
