//! Which timer events are due, given `now` and the core.
