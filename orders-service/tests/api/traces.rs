//! One order is one connected trace across the three real services: `POST /api/orders` ->
//! orders-service's outbox -> its relay's publication -> `orders_stream` -> products-service's
//! consumer -> its outbox -> its relay's publication -> `inventory_stream` -> orders-service's
//! consumer, every span exported (in memory, through the services' own OpenTelemetry layer) with
//! the request's trace id, each one's parent among them. It holds only if the envelope carries
//! the `traceparent` of the relay's span, itself a child of the span that wrote the row.

use std::collections::HashMap;

use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::{EnvFilter, layer::SubscriberExt};

use crate::system::{Orders, start_system_with};

/// The run itself, in a test process of its own: the subscriber is global to the process (the
/// services' tasks run on every worker thread), and tests running beside it would trace into it.
const CHILD: &str = "traces::the_order_in_a_process_of_its_own";

#[test]
fn an_order_is_one_trace_from_its_request_through_both_services_and_both_streams() {
    crate::helpers::run_in_a_process_of_its_own(CHILD);
}

/// A span attribute as text (tracing fields become string attributes).
fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|pair| pair.key.as_str() == key)
        .map(|pair| pair.value.to_string())
}

#[test]
#[ignore = "run by an_order_is_one_trace_from_its_request_through_both_services_and_both_streams in a process of its own"]
fn the_order_in_a_process_of_its_own() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new("info"))
        .with(web_kit::otel::layer(&provider));
    tracing::subscriber::set_global_default(subscriber).expect("no other subscriber here");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let order_id = runtime.block_on(async {
        let system = start_system_with(Orders::InProcess).await;
        let (_, seller) = system.sign_up("seller").await;
        let (_, buyer) = system.sign_up("buyer").await;
        let product_id = system.listing(&seller, 5).await;
        let (order, order_url) = system.place(&buyer, product_id, 1).await;
        system
            .wait_for_status(&order_url, &buyer, "CONFIRMED")
            .await;
        system.stop().await;
        order["id"].as_str().unwrap().to_owned()
    });
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();

    let request = spans
        .iter()
        .find(|span| span.name == "POST /api/orders")
        .unwrap_or_else(|| panic!("no span of the order's request among {} spans", spans.len()));
    assert_eq!(request.span_kind, SpanKind::Server);
    let trace_id = request.span_context.trace_id();
    let trace: Vec<&SpanData> = spans
        .iter()
        .filter(|span| span.span_context.trace_id() == trace_id)
        .collect();
    let shown: Vec<String> = trace
        .iter()
        .map(|span| {
            format!(
                "{} {:?} {:?}",
                span.name,
                attribute(span, "group"),
                attribute(span, "event_type")
            )
        })
        .collect();
    let by_id: HashMap<_, &SpanData> = trace
        .iter()
        .map(|span| (span.span_context.span_id(), *span))
        .collect();
    // Each consumer's span of the order's entries is in the request's trace, a child of the
    // producing relay's span of that entry's publication, itself a child of the producer's
    // span (the request, or the other service's handling).
    let the_request: fn(&SpanData) -> bool = |span| span.name == "POST /api/orders";
    let products_handling: fn(&SpanData) -> bool = |span| {
        span.name == "event" && attribute(span, "group").as_deref() == Some("products-service")
    };
    for (group, event_type, (producer, is_producer)) in [
        (
            "products-service",
            "order.placed",
            ("the request", the_request),
        ),
        (
            "orders-service",
            "stock.reserved",
            ("products-service's handling", products_handling),
        ),
    ] {
        let handling = trace
            .iter()
            .find(|span| {
                matches!(span.name.as_ref(), "event" | "events")
                    && attribute(span, "group").as_deref() == Some(group)
                    && attribute(span, "event_type").as_deref() == Some(event_type)
            })
            .unwrap_or_else(|| {
                panic!("{group}'s handling of {event_type} (order {order_id}) is not in the request's trace: {shown:#?}")
            });
        let publish = by_id
            .get(&handling.parent_span_id)
            .filter(|parent| parent.name == "publish")
            .unwrap_or_else(|| {
                panic!("{group}'s handling of {event_type} is not a child of a relay's span: {shown:#?}")
            });
        assert_eq!(publish.span_kind, SpanKind::Producer);
        assert_eq!(
            attribute(publish, "event_type").as_deref(),
            Some(event_type)
        );
        let mut writer = by_id.get(&publish.parent_span_id).copied();
        // The writer may be a span inside the producer's (a use case, a query): walk up to it.
        while let Some(span) = writer.filter(|span| !is_producer(span)) {
            writer = by_id.get(&span.parent_span_id).copied();
        }
        assert!(
            writer.is_some(),
            "the relay's span of {event_type} does not descend from {producer}: {shown:#?}"
        );
    }
    // Connected: every span of the trace but the request's has its parent among them.
    for span in &trace {
        if span.span_context.span_id() == request.span_context.span_id() {
            continue;
        }
        assert!(
            by_id.contains_key(&span.parent_span_id),
            "span {} has its parent outside the trace's spans: {shown:#?}",
            span.name
        );
    }
}
