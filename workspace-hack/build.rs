// A build script, so that Cargo applies the [build-dependencies] of this crate too.
fn main() {}
