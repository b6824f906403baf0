use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer_ok_when_postgres_and_redis_are_up() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health", None).await.status(), 200);
    let ready = app.get("/ready", None).await;
    assert_eq!(ready.status(), 200);
    assert!(app.get("/metrics", None).await.status().is_success());
}

#[test]
fn the_migrations_carry_stream_libs_outbox_and_inbox_tables_verbatim() {
    let migration = include_str!("../../migrations/V2__create_outbox_and_inbox.sql");
    assert!(migration.contains(stream_lib::outbox::OUTBOX_TABLE_SQL));
    assert!(migration.contains(stream_lib::inbox::INBOX_TABLE_SQL));
    let traceparent = include_str!("../../migrations/V6__outbox_traceparent.sql");
    assert!(traceparent.contains(stream_lib::outbox::OUTBOX_TRACEPARENT_SQL));
}

#[tokio::test]
async fn an_unknown_route_gets_the_json_404_body() {
    let app = spawn_app().await;
    let response = app.get("/api/nothing", None).await;
    crate::helpers::assert_error(response, 404, "not_found").await;
}
