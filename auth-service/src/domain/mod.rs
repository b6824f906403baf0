//! Account values that cannot exist in an invalid state: each is built only through `parse`;
//! and the account's id as a type.

mod email;
mod password;
mod user_id;
mod username;

pub use email::Email;
pub use password::{NewPassword, is_common as password_is_common};
pub use user_id::UserId;
pub use username::Username;
