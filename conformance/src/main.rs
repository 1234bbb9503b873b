#[allow(dead_code)]
mod diagram;

fn main() {}
