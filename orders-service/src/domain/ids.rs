//! Ids as types where they cross a boundary: an order's and an account's (a buyer's), so that
//! one cannot be passed where the other is meant. On the wire and in the database they are
//! plain UUIDs ([`web_kit::typed_id!`]).

web_kit::typed_id!(
    /// An order's id (a UUID v7).
    pub OrderId
);

web_kit::typed_id!(
    /// An account's id, as auth-service issued it: here an order's buyer.
    pub UserId
);
