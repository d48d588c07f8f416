//! `users-api`: registration, login, token refresh and logout, the caller's
//! profile and addresses, password reset, and the admin user list.
//!
//! Each handler parses its input at the edge, calls one service function of
//! [`shop::users::Users`] and maps the result to the response envelope.

use serde_json::json;
use shop::Config;
use shop::aws::AwsClients;
use shop::domain::{AddressId, UserId};
use shop::http::{ApiError, ApiResult, Incoming, Reply};
use shop::lambda::{Api, BoxFuture};
use shop::pagination::PageRequest;
use shop::users::{
    AddressChanges, Credentials, NewAddress, NewUser, ProfileUpdate, RefreshRequest, ResetConfirmation, ResetRequest,
    Users,
};

/// The function's state, built once per execution environment.
#[derive(Debug)]
pub struct App {
    users: Users,
}

impl App {
    pub fn new(config: &Config, clients: &AwsClients) -> Self {
        Self {
            users: Users::from_config(config, clients),
        }
    }

    pub fn users(&self) -> &Users {
        &self.users
    }
}

/// The Lambda handler: never fails at the runtime level; every error is an envelope.
impl Api for App {
    fn route<'a>(&'a self, request: &'a Incoming) -> BoxFuture<'a, ApiResult> {
        Box::pin(route(self, request))
    }

    fn warm_up(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.users.tokens.warm_up(true))
    }
}

async fn route(app: &App, request: &Incoming) -> ApiResult {
    match request.route_key.as_str() {
        "POST /api/v1/users/register" => register(app, request).await,
        "POST /api/v1/users/login" => login(app, request).await,
        "POST /api/v1/auth/refresh" => refresh(app, request).await,
        "POST /api/v1/users/logout" => logout(app, request).await,
        "GET /api/v1/users/profile" | "GET /api/v1/auth/me" => profile(app, request).await,
        "PUT /api/v1/users/profile" => update_profile(app, request).await,
        "GET /api/v1/users/addresses" => list_addresses(app, request).await,
        "POST /api/v1/users/addresses" => create_address(app, request).await,
        "PUT /api/v1/users/addresses/{addressId}" => update_address(app, request).await,
        "DELETE /api/v1/users/addresses/{addressId}" => delete_address(app, request).await,
        "POST /api/v1/auth/password-reset" => request_password_reset(app, request).await,
        "POST /api/v1/auth/password-reset/confirm" => confirm_password_reset(app, request).await,
        "GET /api/v1/users" => list_users(app, request).await,
        "GET /api/v1/users/{userId}" => get_user(app, request).await,
        "GET /api/v1/notifications" => list_notifications(app, request).await,
        "GET /api/v1/notifications/settings" => notification_settings(app, request).await,
        "PUT /api/v1/notifications/settings" => update_notification_settings(app, request).await,
        _ => Err(request.unknown_route()),
    }
}

async fn register(app: &App, request: &Incoming) -> ApiResult {
    let input = NewUser::parse(request.body())?;
    let user = app.users.register(input).await?;
    Ok(Reply::created(user).message("User registered successfully"))
}

async fn login(app: &App, request: &Incoming) -> ApiResult {
    let input = Credentials::parse(request.body())?;
    let result = app.users.login(input, &request.source_ip).await?;
    Ok(Reply::ok(result).message("Login successful"))
}

async fn refresh(app: &App, request: &Incoming) -> ApiResult {
    let input = RefreshRequest::parse(request.body())?;
    Ok(Reply::ok(app.users.refresh(input).await?).message("Token refreshed"))
}

async fn logout(app: &App, request: &Incoming) -> ApiResult {
    let input = RefreshRequest::parse(request.body())?;
    app.users.logout(input).await?;
    Ok(Reply::ok(json!(null)).message("Logged out successfully"))
}

async fn profile(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let profile = app.users.profile(caller.user_id).await?;
    let etag = profile.etag();
    Ok(Reply::ok(profile)
        .header("etag", &etag)
        .header("cache-control", "private, no-cache"))
}

async fn update_profile(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let update = ProfileUpdate::parse(request)?;
    let profile = app.users.update_profile(&caller, update).await?;
    let etag = profile.etag();
    Ok(Reply::ok(profile)
        .header("etag", &etag)
        .message("Profile updated successfully"))
}

fn address_id(request: &Incoming) -> Result<AddressId, ApiError> {
    AddressId::parse(request.path_param("addressId")?).map_err(|_| ApiError::not_found("Address"))
}

async fn list_addresses(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let page = PageRequest::from_query(request, 20)?;
    let (addresses, pagination) = app.users.addresses(&caller, page).await?;
    Ok(Reply::ok(json!({ "addresses": addresses, "pagination": pagination })))
}

async fn create_address(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let input = NewAddress::parse(request.body())?;
    let address = app.users.create_address(&caller, input).await?;
    Ok(Reply::created(address).message("Address added successfully"))
}

async fn update_address(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let id = address_id(request)?;
    let changes = AddressChanges::parse(request.body())?;
    let address = app.users.update_address(&caller, id, changes).await?;
    Ok(Reply::ok(address).message("Address updated successfully"))
}

async fn delete_address(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let id = address_id(request)?;
    app.users.delete_address(&caller, id).await?;
    Ok(Reply::ok(json!(null)).message("Address deleted successfully"))
}

async fn request_password_reset(app: &App, request: &Incoming) -> ApiResult {
    let input = ResetRequest::parse(request.body())?;
    app.users.request_password_reset(input).await?;
    Ok(Reply::accepted(json!(null)).message("If an account exists for this email, a reset link has been sent"))
}

async fn confirm_password_reset(app: &App, request: &Incoming) -> ApiResult {
    let input = ResetConfirmation::parse(request.body())?;
    app.users.confirm_password_reset(input).await?;
    Ok(Reply::ok(json!(null)).message("Password has been reset; please log in again"))
}

async fn list_users(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let page = PageRequest::from_query(request, 20)?;
    let (users, pagination) = app.users.list_users(&caller, page).await?;
    Ok(Reply::ok(json!({ "users": users, "pagination": pagination })))
}

async fn get_user(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let user = UserId::parse(request.path_param("userId")?).map_err(|_| ApiError::not_found("User"))?;
    Ok(Reply::ok(app.users.user_for(&caller, user).await?))
}

async fn list_notifications(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let page = PageRequest::from_query(request, 20)?;
    let (notifications, pagination) = app.users.notifications(&caller, page).await?;
    Ok(Reply::ok(
        json!({ "notifications": notifications, "pagination": pagination }),
    ))
}

async fn notification_settings(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    Ok(Reply::ok(app.users.notification_settings(&caller).await?))
}

async fn update_notification_settings(app: &App, request: &Incoming) -> ApiResult {
    let caller = app.users.tokens.authenticate(request).await?;
    let settings = shop::notifications::parse_settings(request.body())?;
    Ok(
        Reply::ok(app.users.update_notification_settings(&caller, settings).await?)
            .message("Notification settings saved"),
    )
}
