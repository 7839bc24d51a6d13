//! Logs and traces: text or JSON lines on stderr, and spans exported over OTLP/HTTP when a
//! collector is configured. Trace context crosses process boundaries through `context`.

mod config;
pub mod context;
pub mod events;

pub use config::{LogFormat, OtlpProtocol, TelemetryConfig};

use std::io::IsTerminal;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Keeps the trace exporter alive; dropping it flushes the spans still queued.
#[must_use = "dropping the guard stops trace export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported (an OTLP endpoint is configured).
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("warning: flushing traces at exit failed: {e}");
        }
    }
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber: logs filtered by `RUST_LOG` (else `default_filter`), and
/// rollcall's own spans to OTLP when `config.otlp_endpoint` is set. Stdout is left to command
/// output (tables, JSON).
pub fn init(config: &TelemetryConfig, default_filter: &str, command: &str) -> anyhow::Result<Telemetry> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    // The span exporter's HTTP client needs it, even for plain http:// collectors.
    crate::http::install_tls_provider();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let logs: BoxedLayer = match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
    };
    let mut layers = vec![logs];
    let mut provider = None;
    if let Some(endpoint) = &config.otlp_endpoint {
        let service = config
            .service_name
            .clone()
            .unwrap_or_else(|| format!("rollcall-{command}"));
        let exporting = tracer_provider(endpoint, config.otlp_protocol, &service)?;
        // Spans are kept apart from the log filter: RUST_LOG=warn must not switch traces off.
        let spans = tracing_opentelemetry::layer()
            .with_tracer(exporting.tracer("rollcall"))
            .with_filter(Targets::new().with_target("rollcall", tracing::Level::INFO))
            .boxed();
        layers.push(spans);
        provider = Some(exporting);
    }
    // A second init (tests call this more than once) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(Telemetry { provider })
}

fn tracer_provider(endpoint: &str, protocol: OtlpProtocol, service: &str) -> anyhow::Result<SdkTracerProvider> {
    let url = traces_url(endpoint);
    let protocol = match protocol {
        OtlpProtocol::HttpProtobuf => Protocol::HttpBinary,
        OtlpProtocol::HttpJson => Protocol::HttpJson,
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(&url)
        .build()
        .with_context(|| format!("setting up OTLP export to {url}"))?;
    let resource = Resource::builder().with_service_name(service.to_owned()).build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// The collector's traces address: `/v1/traces` under the configured base, unless given whole.
fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_once() {
        assert_eq!(traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/v1/traces"), "http://c:4318/v1/traces");
    }
}
