//! Key → slot for typical keys: plain, hash-tagged, and a 64-byte key.

use clusterbus_node::slots::key_hash_slot;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn bench_keyslot(c: &mut Criterion) {
    let long_key = [b'k'; 64];
    let keys: [(&str, &[u8]); 3] = [
        ("user:1000", b"user:1000"),
        ("{user1000}.following", b"{user1000}.following"),
        ("64-byte key", &long_key),
    ];
    for (name, key) in keys {
        c.bench_function(&format!("keyslot {name}"), |b| {
            b.iter(|| key_hash_slot(black_box(key)))
        });
    }
}

criterion_group!(benches, bench_keyslot);
criterion_main!(benches);
