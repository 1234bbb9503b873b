//! Parsing client requests: RESP multibulk (`*N\r\n$len\r\n...`) as client
//! libraries send it, and inline commands (`PING\r\n`) as typed into
//! `nc`/telnet. Mirrors `processMultibulkBuffer` and `processInlineBuffer`
//! of Redis 7.0's `networking.c`, including their limits and error texts.
//!
//! The parser holds no state: [`parse_request`] looks at the front of the
//! buffer and says "here is a request of `n` bytes", "read more", or "this is
//! not a request". Arguments are copied only once a whole request is there.
//!
//! Where this parser knowingly differs from Redis 7.0: a NUL byte is an
//! ordinary byte (Redis's `strchr` stops at it, so a NUL before the line end
//! makes Redis wait for more input forever).

use super::Frame;

/// Longest inline request, and longest count line, Redis reads without
/// finding its end (`PROTO_INLINE_MAX_SIZE`, bytes).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Largest bulk argument (`proto-max-bulk-len` default, bytes).
pub const PROTO_MAX_BULK_LEN: i64 = 512 * 1024 * 1024;
/// Largest argument count of a multibulk request (Redis 7.0 allows `INT_MAX`).
pub const PROTO_MAX_MULTIBULK_LEN: i64 = i32::MAX as i64;
/// Largest argument count before the client authenticated (`authRequired`).
pub const PROTO_UNAUTH_MAX_MULTIBULK_LEN: i64 = 10;
/// Largest bulk argument before the client authenticated, bytes.
pub const PROTO_UNAUTH_MAX_BULK_LEN: i64 = 16 * 1024;
/// Longest number Redis's `string2ll` reads (`LONG_STR_SIZE` is 21 with the NUL).
const LONG_STR_MAX_DIGITS: usize = 20;

/// Why bytes could not be read as a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// More bytes are needed.
    Incomplete,
    /// The bytes are not a request; the text is Redis's protocol error
    /// (e.g. `Protocol error: invalid bulk length`). Redis replies it with an
    /// `ERR ` prefix (see [`RequestError::reply`]) and closes the connection.
    Invalid(String),
}

impl RequestError {
    /// The reply Redis sends before closing the connection
    /// (`-ERR Protocol error: ...`); `None` for [`RequestError::Incomplete`].
    pub fn reply(&self) -> Option<Frame> {
        match self {
            RequestError::Incomplete => None,
            RequestError::Invalid(text) => Some(Frame::error(format!("ERR {text}"))),
        }
    }
}

/// Reads one request from the front of `buf`: its arguments and the number
/// of bytes it took, for a client that is authenticated (or needs no
/// password).
///
/// An empty request (`*0\r\n`, `*-1\r\n`, or a blank inline line) comes back
/// as `Ok((vec![], n))`: the caller drops those `n` bytes and replies
/// nothing, as Redis does.
pub fn parse_request(buf: &[u8]) -> Result<(Vec<Vec<u8>>, usize), RequestError> {
    parse_request_with(buf, false)
}

/// [`parse_request`] with the tighter limits Redis applies while
/// `auth_required` (a password is set and the client has not sent AUTH):
/// at most 10 arguments of at most 16 KiB each.
pub fn parse_request_with(
    buf: &[u8],
    auth_required: bool,
) -> Result<(Vec<Vec<u8>>, usize), RequestError> {
    match buf.first() {
        None => Err(RequestError::Incomplete),
        Some(b'*') => parse_multibulk(buf, auth_required),
        Some(_) => parse_inline(buf),
    }
}

fn invalid(text: &str) -> RequestError {
    RequestError::Invalid(format!("Protocol error: {text}"))
}

/// One multibulk request. Like Redis, the byte after each `\r` of a header
/// and the two bytes after each bulk are skipped without being checked.
fn parse_multibulk(buf: &[u8], auth_required: bool) -> Result<(Vec<Vec<u8>>, usize), RequestError> {
    let (count, mut pos) = match read_line(buf, 0) {
        Line::Complete { text, next } => (text, next),
        Line::Partial => return Err(RequestError::Incomplete),
        Line::TooLong => return Err(invalid("too big mbulk count string")),
    };
    let count = match string2ll(&count[1..]) {
        Some(n) if n <= PROTO_MAX_MULTIBULK_LEN => n,
        _ => return Err(invalid("invalid multibulk length")),
    };
    if auth_required && count > PROTO_UNAUTH_MAX_MULTIBULK_LEN {
        return Err(invalid("unauthenticated multibulk length"));
    }
    if count <= 0 {
        return Ok((Vec::new(), pos));
    }
    // Spans first, copies once the request is whole.
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity((count as usize).min(1024));
    for _ in 0..count {
        let (start, len) = read_bulk(buf, pos, auth_required)?;
        spans.push((start, len));
        pos = start + len + 2;
    }
    let args = spans
        .iter()
        .map(|(start, len)| buf[*start..*start + *len].to_vec())
        .collect();
    Ok((args, pos))
}

/// The bulk whose `$len` header starts at `pos`: where its bytes start, and
/// how many there are; `Incomplete` until they have all arrived.
fn read_bulk(buf: &[u8], pos: usize, auth_required: bool) -> Result<(usize, usize), RequestError> {
    let (header, start) = match read_line(buf, pos) {
        Line::Complete { text, next } => (text, next),
        Line::Partial => return Err(RequestError::Incomplete),
        Line::TooLong => return Err(invalid("too big bulk count string")),
    };
    if header[0] != b'$' {
        let got = char::from(header[0]);
        return Err(invalid(&format!("expected '$', got '{got}'")));
    }
    let len = match string2ll(&header[1..]) {
        Some(n) if (0..=PROTO_MAX_BULK_LEN).contains(&n) => n,
        _ => return Err(invalid("invalid bulk length")),
    };
    if auth_required && len > PROTO_UNAUTH_MAX_BULK_LEN {
        return Err(invalid("unauthenticated bulk length"));
    }
    let len = len as usize;
    if buf.len() - start < len + 2 {
        return Err(RequestError::Incomplete);
    }
    Ok((start, len))
}

/// A header line of a multibulk request, as Redis finds it: up to the first
/// `\r` after `pos`, followed by one more byte.
enum Line<'a> {
    /// The line (never empty: it holds at least the byte at `pos`; the `\r`
    /// excluded) and where the next line starts.
    Complete { text: &'a [u8], next: usize },
    /// No end yet; wait for more bytes.
    Partial,
    /// No end within [`PROTO_INLINE_MAX_SIZE`] bytes.
    TooLong,
}

fn read_line(buf: &[u8], pos: usize) -> Line<'_> {
    let rest = &buf[pos..];
    match rest.iter().position(|b| *b == b'\r') {
        None if rest.len() > PROTO_INLINE_MAX_SIZE => Line::TooLong,
        None => Line::Partial,
        Some(cr) if cr + 2 > rest.len() => Line::Partial,
        // A `\r` at `pos` itself: the line is that one byte, as Redis sees it
        // (its `$` check then reports it).
        Some(0) => Line::Complete {
            text: &rest[..1],
            next: pos + 2,
        },
        Some(cr) => Line::Complete {
            text: &rest[..cr],
            next: pos + cr + 2,
        },
    }
}

/// One inline request: the line up to `\n` (a `\r` before it dropped), split
/// into arguments with Redis's quoting rules.
fn parse_inline(buf: &[u8]) -> Result<(Vec<Vec<u8>>, usize), RequestError> {
    let Some(newline) = buf.iter().position(|b| *b == b'\n') else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(invalid("too big inline request"));
        }
        return Err(RequestError::Incomplete);
    };
    let mut end = newline;
    if end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    match split_args(&buf[..end]) {
        Some(args) => Ok((args, newline + 1)),
        None => Err(invalid("unbalanced quotes in request")),
    }
}

/// C's `isspace` in the "C" locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Splits an inline line into arguments. Mirrors `sdssplitargs`: blanks
/// separate arguments; `"..."` takes `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a`
/// and `\<any>` escapes; `'...'` takes `\'`; a closing quote must be followed
/// by a blank or the end. `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p == line.len() {
            return Some(args);
        }
        let (arg, next) = split_one(line, p)?;
        args.push(arg);
        p = next;
    }
}

/// Where we are inside one argument of an inline line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Double,
    Single,
}

/// One argument starting at `p` (not a blank): its bytes and where the
/// scan goes on.
fn split_one(line: &[u8], mut p: usize) -> Option<(Vec<u8>, usize)> {
    let at = |i: usize| line.get(i).copied();
    let mut arg = Vec::new();
    let mut quote = Quote::None;
    loop {
        let c = at(p);
        match quote {
            Quote::Double => match c {
                None => return None,
                Some(b'\\')
                    if at(p + 1) == Some(b'x') && hex_pair(at(p + 2), at(p + 3)).is_some() =>
                {
                    arg.push(hex_pair(at(p + 2), at(p + 3))?);
                    p += 3;
                }
                Some(b'\\') if at(p + 1).is_some() => {
                    p += 1;
                    arg.push(unescape(line[p]));
                }
                Some(b'"') => return closing(line, p).map(|next| (arg, next)),
                Some(b) => arg.push(b),
            },
            Quote::Single => match c {
                None => return None,
                Some(b'\\') if at(p + 1) == Some(b'\'') => {
                    p += 1;
                    arg.push(b'\'');
                }
                Some(b'\'') => return closing(line, p).map(|next| (arg, next)),
                Some(b) => arg.push(b),
            },
            Quote::None => match c {
                None => return Some((arg, p)),
                Some(b' ' | b'\n' | b'\r' | b'\t') => return Some((arg, p + 1)),
                Some(b'"') => quote = Quote::Double,
                Some(b'\'') => quote = Quote::Single,
                Some(b) => arg.push(b),
            },
        }
        p += 1;
    }
}

/// A closing quote at `p` must be followed by a blank or the end of the line;
/// returns where the scan goes on.
fn closing(line: &[u8], p: usize) -> Option<usize> {
    match line.get(p + 1) {
        Some(b) if !is_space(*b) => None,
        Some(_) => Some(p + 2),
        None => Some(p + 1),
    }
}

fn unescape(b: u8) -> u8 {
    match b {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

fn hex_pair(hi: Option<u8>, lo: Option<u8>) -> Option<u8> {
    let digit = |b: Option<u8>| char::from(b?).to_digit(16);
    Some((digit(hi)? * 16 + digit(lo)?) as u8)
}

/// A signed decimal as Redis's `string2ll` reads it: no sign but `-`, no
/// leading zeros, no blanks, at most 20 characters, within `i64`.
pub fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > LONG_STR_MAX_DIGITS {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
