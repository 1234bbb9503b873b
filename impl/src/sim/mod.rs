//! An in-memory cluster of cores for tests: virtual clock, faulty network.
