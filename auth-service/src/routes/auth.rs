//! `/api/auth/*`: signup, login, refresh, logout, me, demo-login, jwks. Thin handlers: parse,
//! call one use case, shape the response.

use std::sync::Arc;

use auth_kit::{AuthUser, REFRESH_COOKIE, Verifier, signing::SigningKeys};
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use web_kit::{ErrorBody, Json};

use crate::{
    client_ip::ClientIp,
    domain::UserId,
    error::ApiError,
    sessions::{SessionResponse, Sessions, UserResponse},
    state::DemoUsers,
    usecases::{
        self, Accounts,
        current_user::current_user,
        demo_sign_in::demo_sign_in,
        sign_in::{SignIn, sign_in},
        sign_out::sign_out,
        sign_out_everywhere::sign_out_everywhere,
        sign_up::{SignUp, sign_up},
    },
};

/// The OpenAPI tag of these routes.
const TAG: &str = "auth";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Signup)]
pub struct SignupRequest {
    /// 3-30 letters, digits, `_`, `-` or `.`.
    #[schema(example = "alice")]
    username: String,
    #[schema(example = "alice@example.com")]
    email: String,
    /// At least 8 characters, not a common password.
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Login)]
pub struct LoginRequest {
    #[schema(example = "demo@demo.com")]
    email: String,
    password: String,
}

/// `POST /api/auth/signup`: 201 with the user, signed in (cookies set).
#[utoipa::path(
    post,
    path = "/api/auth/signup",
    tag = TAG,
    operation_id = "signup",
    summary = "Create an account and sign in",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "The new user, signed in.", body = UserResponse, headers(("Set-Cookie" = String, description = "The `access_token` and `refresh_token` HttpOnly cookies."))),
        (status = 409, description = "The email (`email_taken`) or username (`username_taken`) is taken, with `fields`.", body = ErrorBody),
        (status = 422, description = "A field is invalid (`validation_failed`, naming each), or the body does not fit the schema (`invalid_body`).", body = ErrorBody),
        (status = 429, description = "Too many attempts (`rate_limited`).", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
pub async fn signup(
    State(accounts): State<Accounts>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(request): Json<SignupRequest>,
) -> Result<(StatusCode, CookieJar, Json<UserResponse>), ApiError> {
    let form = SignUp {
        ip,
        username: request.username,
        email: request.email,
        password: request.password,
    };
    let (user, issued) = sign_up(&accounts, form).await?;
    let Accounts {
        limiter, sessions, ..
    } = &accounts;
    let jar = limiter.remember_device(sessions.set_cookies(jar, &issued), &user.email);
    Ok((
        StatusCode::CREATED,
        jar,
        Json(UserResponse::try_from(&user)?),
    ))
}

/// `POST /api/auth/login`: 200 `{user, access_token, expires_in}`, the session cookies and a
/// fresh device cookie. An unknown email and a wrong password get the same 401 after the same
/// work.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = TAG,
    operation_id = "login",
    summary = "Sign in with email and password",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: the user and a bearer token for API clients.", body = SessionResponse, headers(("Set-Cookie" = String, description = "The `access_token` and `refresh_token` HttpOnly cookies."))),
        (status = 401, description = "Unknown email or wrong password (`invalid_credentials`).", body = ErrorBody),
        (status = 429, description = "Too many attempts (`rate_limited`).", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
pub async fn login(
    State(accounts): State<Accounts>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(request): Json<LoginRequest>,
) -> Result<(CookieJar, Json<SessionResponse>), ApiError> {
    let credentials = SignIn {
        ip,
        email: request.email,
        password: request.password,
    };
    let (user, issued) = sign_in(&accounts, &jar, credentials).await?;
    let Accounts {
        limiter, sessions, ..
    } = &accounts;
    let jar = limiter.remember_device(sessions.set_cookies(jar, &issued), &user.email);
    Ok((jar, Json(sessions.response(&user, issued)?)))
}

/// `POST /api/auth/refresh`: spends the refresh cookie, sets the next pair. On failure the
/// cookies are cleared.
#[utoipa::path(
    post,
    path = "/api/auth/refresh",
    tag = TAG,
    operation_id = "refresh",
    summary = "Spend the refresh cookie for a new session",
    params(("refresh_token" = Option<String>, Cookie, description = "The refresh token sign-in set (HttpOnly, path `/api/auth`).")),
    responses(
        (status = 200, description = "The next access and refresh tokens.", body = SessionResponse, headers(("Set-Cookie" = String, description = "The `access_token` and `refresh_token` HttpOnly cookies."))),
        (status = 401, description = "No, an unknown or an expired refresh token (`invalid_refresh_token`), or one already spent (`refresh_token_reused`: the session is ended); the cookies are cleared.", body = ErrorBody),
    ),
)]
pub async fn refresh(
    State(pool): State<PgPool>,
    State(sessions): State<Sessions>,
    jar: CookieJar,
) -> Response {
    let Some(token) = jar
        .get(REFRESH_COOKIE)
        .map(|cookie| cookie.value().to_owned())
    else {
        return ApiError::InvalidRefreshToken.into_response();
    };
    match usecases::refresh::refresh(&pool, &sessions, &token).await {
        Ok((user, issued)) => {
            let jar = sessions.set_cookies(jar, &issued);
            match sessions.response(&user, issued) {
                Ok(body) => (jar, Json(body)).into_response(),
                Err(error) => error.into_response(),
            }
        }
        Err(error @ (ApiError::InvalidRefreshToken | ApiError::RefreshTokenReused)) => {
            (sessions.clear_cookies(jar), error).into_response()
        }
        Err(error) => error.into_response(),
    }
}

/// `POST /api/auth/logout`: 204; revokes the refresh family, deny-lists the access token and
/// clears the cookies. Idempotent: without a session it still answers 204.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = TAG,
    operation_id = "logout",
    summary = "Sign out (idempotent)",
    params(("refresh_token" = Option<String>, Cookie, description = "The session's refresh token, revoked with its family.")),
    security((), ("cookie" = []), ("bearer" = [])),
    responses((status = 204, description = "Signed out; the cookies are cleared.")),
)]
pub async fn logout(
    State(pool): State<PgPool>,
    State(sessions): State<Sessions>,
    State(verifier): State<Verifier>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    let claims =
        auth_kit::token_from_headers(&headers).and_then(|token| verifier.decode(&token).ok());
    let refresh = jar
        .get(REFRESH_COOKIE)
        .map(|cookie| cookie.value().to_owned());
    sign_out(&pool, &sessions, claims.as_ref(), refresh.as_deref()).await?;
    Ok((StatusCode::NO_CONTENT, sessions.clear_cookies(jar)))
}

/// `POST /api/auth/logout-everywhere`: 204; ends every session of the signed-in user (every
/// browser and device), deny-lists their access tokens and clears this browser's cookies.
#[utoipa::path(
    post,
    path = "/api/auth/logout-everywhere",
    tag = TAG,
    operation_id = "logout_everywhere",
    summary = "End every session of the signed-in user",
    security(("cookie" = []), ("bearer" = [])),
    responses((status = 204, description = "Every session ended; this browser's cookies are cleared.")),
)]
pub async fn logout_everywhere(
    State(pool): State<PgPool>,
    State(sessions): State<Sessions>,
    State(verifier): State<Verifier>,
    user: AuthUser,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    let claims = auth_kit::token_from_headers(&headers)
        .and_then(|token| verifier.decode(&token).ok())
        .ok_or(ApiError::Auth(auth_kit::AuthError::Invalid))?;
    sign_out_everywhere(&pool, &sessions, UserId::from(user.id), &claims).await?;
    Ok((StatusCode::NO_CONTENT, sessions.clear_cookies(jar)))
}

/// `GET /api/auth/me`: the signed-in user.
#[utoipa::path(
    get,
    path = "/api/auth/me",
    tag = TAG,
    operation_id = "me",
    summary = "The signed-in user",
    security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, description = "The user.", body = UserResponse)),
)]
pub async fn me(
    State(pool): State<PgPool>,
    user: AuthUser,
) -> Result<Json<UserResponse>, ApiError> {
    let row = current_user(&pool, UserId::from(user.id)).await?;
    Ok(Json(UserResponse::try_from(&row)?))
}

/// `POST /api/auth/demo-login`: signs in as `demo` when demo users are on; 404 otherwise.
#[utoipa::path(
    post,
    path = "/api/auth/demo-login",
    tag = TAG,
    operation_id = "demo_login",
    summary = "Sign in as the demo user",
    responses(
        (status = 200, description = "Signed in as `demo`.", body = SessionResponse, headers(("Set-Cookie" = String, description = "The `access_token` and `refresh_token` HttpOnly cookies."))),
        (status = 404, description = "Demo accounts are not enabled (`not_found`).", body = ErrorBody),
    ),
)]
pub async fn demo_login(
    State(pool): State<PgPool>,
    State(sessions): State<Sessions>,
    State(demo_users): State<DemoUsers>,
    jar: CookieJar,
) -> Result<(CookieJar, Json<SessionResponse>), ApiError> {
    let (user, issued) = demo_sign_in(&pool, &sessions, demo_users).await?;
    let jar = sessions.set_cookies(jar, &issued);
    Ok((jar, Json(sessions.response(&user, issued)?)))
}

/// `GET /api/auth/jwks`: the public key set (cacheable for five minutes).
#[utoipa::path(
    get,
    path = "/api/auth/jwks",
    tag = TAG,
    operation_id = "jwks",
    summary = "The public keys that verify access tokens (a JWK set)",
    responses((status = 200, description = "`{\"keys\": [...]}`: Ed25519 keys (`OKP`, `kid`), the signing key first.", body = Object)),
)]
pub async fn jwks(State(keys): State<Arc<SigningKeys>>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(keys.jwks()),
    )
}
