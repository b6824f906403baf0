//! Prints auth-service's OpenAPI 3.1 document (the one `GET /api/auth/openapi.json` serves) on
//! standard output, without starting the service: `scripts/api-types` generates the SPA's types
//! from it.

fn main() {
    let document = auth_service::routes::openapi();
    println!(
        "{}",
        serde_json::to_string_pretty(&document).expect("an OpenAPI document serialises")
    );
}
