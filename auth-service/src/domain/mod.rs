//! Account values that cannot exist in an invalid state: each is built only through `parse`.

mod email;
mod password;
mod username;

pub use email::Email;
pub use password::{NewPassword, is_common as password_is_common};
pub use username::Username;
