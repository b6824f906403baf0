//! Rollback across a migration: the previous release starts on the schema the next one left.

use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_service_starts_on_a_database_with_one_more_migration_than_it_knows() {
    let app = spawn_app().await;
    // What the next release would do: an expand migration (a nullable column), recorded in
    // refinery's history under the next version.
    let next: i32 = sqlx::query_scalar("SELECT max(version) + 1 FROM refinery_schema_history")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE users ADD COLUMN nickname text")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
         VALUES ($1, 'add_user_nickname', '2026-12-01T00:00:00Z', '1')",
    )
    .bind(next)
    .execute(&app.pool)
    .await
    .unwrap();

    // This release starts again on that database (the rollback) and keeps working.
    let rolled_back = app.sibling(|_| {}).await;
    let ready = rolled_back
        .client
        .get(rolled_back.url("/ready"))
        .send()
        .await
        .unwrap();
    let signup = rolled_back
        .signup("rolledback", "rolled.back@example.com", "a long password")
        .await;

    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(signup.status(), StatusCode::CREATED);
}
