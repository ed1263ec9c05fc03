//! Rebuilds `backend` when a file under `migrations/` is added, changed or removed: `sqlx::migrate!`
//! embeds the folder at compile time, and cargo does not watch it on its own (sqlx's documented build
//! script). Without this, an incremental build (the image's target cache, an upgrade that only adds a
//! migration) ships a binary that never applies the new migration.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
