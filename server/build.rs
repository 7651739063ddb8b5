//! Rebuilds the server when a migration file changes: `sqlx::migrate!` reads them at
//! compile time.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
