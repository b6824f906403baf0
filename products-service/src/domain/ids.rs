//! Ids as types where they cross a boundary: a listing's and an account's (a seller's), so
//! that one cannot be passed where the other is meant. On the wire and in the database they
//! are plain UUIDs ([`web_kit::typed_id!`]).

use uuid::Uuid;

web_kit::typed_id!(
    /// A listing's id (a UUID v7 for listings created through the API, fixed ones for the
    /// seeded catalog).
    pub ProductId
);

web_kit::typed_id!(
    /// An account's id, as auth-service issued it: here the seller of a listing.
    pub UserId
);

impl ProductId {
    /// A fresh, time-ordered id.
    pub fn generate() -> Self {
        Self::from_uuid(Uuid::now_v7())
    }
}
