//! The literal error texts of the wolkvox API (wolkvox-api.md §1.5, §2.3, §3).
//!
//! The client tells answers apart by these texts and the simulator sends
//! them, so both read them from here.

/// `error` of the 400s.
pub const ERR_BAD_REQUEST: &str = "BAD REQUEST";
/// 400: unknown `api=` name.
pub const MSG_UNKNOWN_API: &str = "THE API YOU WANT TO CONSULT DOES NOT EXIST";
/// 400: a required parameter is missing.
pub const MSG_PARAMS_REQUIRED: &str = "SOME PARAMETERS ARE REQUIRED";
/// `error` of the 401.
pub const ERR_UNAUTHORIZED: &str = "UNAUTHORIZED";
/// 401: no `wolkvox-token` header.
pub const MSG_ENTER_TOKEN: &str = "PLEASE ENTER THE WOLKVOX-TOKEN";
/// `error` of the documented 403s.
pub const ERR_FORBIDDEN: &str = "FORBIDDEN";
/// 403: the operation's daily budget is spent.
pub const MSG_TOKEN_LIMIT: &str = "TOKEN LIMIT EXCEEDED";
/// 403: a third request in flight on one token.
pub const MSG_SIMULTANEOUS: &str = "EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)";
/// 403: the token is wrong, expired or of another operation.
pub const MSG_VALIDATE_TOKEN: &str = "PLEASE VALIDATE TOKEN";
/// 403 during maintenance; its `error` is title-case and `code` a string.
pub const MSG_MAINTENANCE: &str = "The APIs cannot be consumed at this time, try again later.";
/// `error` of the maintenance 403.
pub const ERR_MAINTENANCE: &str = "Forbidden";
/// The exact maintenance body (HC-TOKEN, "Important Consideration").
pub const MAINTENANCE_BODY: &str = "{\"code\": \"403\", \"error\": \"Forbidden\", \
     \"msg\": \"The APIs cannot be consumed at this time, try again later.\"}";
/// 404: an empty window, and also an API not enabled on the server.
pub const MSG_VALIDATE_DATES: &str = "Validate dates entered";
/// 400: a window longer than the endpoint allows. The real text is not
/// published (wolkvox-api.md §11.3); the simulator's own wording.
pub const MSG_RANGE_TOO_LONG: &str = "THE DATE RANGE EXCEEDS THE LIMIT ALLOWED";
/// 404: the API is not enabled for the operation. The real server's body is
/// not published (wolkvox-api.md §2.3 says only that it is a 404); this is
/// the simulator's wording, and the client treats any 404 that does not
/// say [`MSG_VALIDATE_DATES`] as "not enabled".
pub const MSG_NOT_ENABLED: &str = "THE API IS NOT ENABLED FOR THIS OPERATION";
