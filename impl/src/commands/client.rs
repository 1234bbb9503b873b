//! The connection's own settings a client can change: its name
//! (`CLIENT SETNAME`, `HELLO SETNAME`). Mirrors `clientSetName` of Redis 7.0.

use super::Session;
use crate::resp::Frame;

/// Sets the connection's name; an empty name removes it. A name may hold
/// only the printable ASCII characters `!`..`~`, so that `CLIENT LIST`
/// stays splittable by spaces.
pub fn set_name(session: &mut Session, name: &[u8]) -> Result<(), Frame> {
    if name.iter().any(|b| !(b'!'..=b'~').contains(b)) {
        return Err(Frame::error(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    session.name = name.to_vec();
    Ok(())
}
