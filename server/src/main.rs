//! `inflow-server`: Inflow's self-hosted sync endpoint (SQLite built in, PostgreSQL for
//! scale). Not built yet: the sync protocol, storage and auth are the sync-server issue.
//! Until then this binary only says so, and `cargo xtask run` does not start it.

fn main() {
    eprintln!(
        "inflow-server {}: the sync server is not built yet. Tips are kept in each browser's \
         IndexedDB until it is; nothing is sent anywhere.",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
