//! Micro-benchmarks and the cluster harness live under `benches/`.
