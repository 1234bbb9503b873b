//! RESP2 and RESP3, the protocols of the client port: the [`Frame`] values
//! a reply is made of, their encoding in either protocol, and the parsing of client requests (with an
//! explicit "incomplete" outcome, separate from malformed input).

mod frame;
mod parse;

pub use frame::{Frame, Protocol};
pub use parse::{
    parse_request, parse_request_with, split_args, string2ll, RequestError, PROTO_INLINE_MAX_SIZE,
    PROTO_MAX_BULK_LEN, PROTO_MAX_MULTIBULK_LEN, PROTO_UNAUTH_MAX_BULK_LEN,
    PROTO_UNAUTH_MAX_MULTIBULK_LEN,
};
