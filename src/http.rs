//! The HTTPS client of every outbound request rollcall makes (model downloads, snapshot and
//! MJPEG cameras), and the one TLS crypto provider of the process.

use anyhow::Context;

/// Makes ring the process's TLS crypto provider, once: the HTTPS clients (these and the trace
/// exporter's) are built without one of their own, as the database and NATS clients use ring too.
pub fn install_tls_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// An HTTPS client that trusts the system's certificates.
pub fn client() -> anyhow::Result<reqwest::Client> {
    install_tls_provider();
    reqwest::Client::builder()
        .user_agent(concat!("rollcall/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(30))
        .build()
        .context("setting up the HTTPS client")
}
