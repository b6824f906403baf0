use auth_service::{config::Settings, startup::Application};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    web_kit::telemetry::init(web_kit::build_info!());
    let settings = Settings::from_env()?;
    let application = Application::build(settings).await?;
    tracing::info!(port = application.port(), "auth-service listening");
    application
        .run_until(web_kit::shutdown::token_on_signal())
        .await?;
    web_kit::telemetry::shutdown();
    Ok(())
}
