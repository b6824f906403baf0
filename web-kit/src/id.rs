//! Ids as types (`OrderId`, `ProductId`, `UserId`): each service declares its own with
//! [`typed_id!`](crate::typed_id), so that one id cannot be passed where another is meant. The
//! macro is shared so that every id behaves alike (a plain UUID on the wire and in the
//! database, shown as the UUID); the types themselves stay the services'.

/// Declares `$name`, a copyable id around a [`uuid::Uuid`]: serialised and stored as the bare
/// UUID (`serde` and `sqlx` transparent), shown as it, converted from and into it.
///
/// ```
/// web_kit::typed_id!(
///     /// An order's id.
///     pub OrderId
/// );
/// let id = OrderId::from_uuid(uuid::Uuid::nil());
/// assert_eq!(id.to_string(), uuid::Uuid::nil().to_string());
/// ```
#[macro_export]
macro_rules! typed_id {
    ($(#[$doc:meta])* $vis:vis $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        $vis struct $name(::uuid::Uuid);

        impl $name {
            pub const fn from_uuid(id: ::uuid::Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl ::std::convert::From<::uuid::Uuid> for $name {
            fn from(id: ::uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl ::std::convert::From<$name> for ::uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    crate::typed_id!(
        /// An id for the test.
        ThingId
    );

    #[test]
    fn an_id_is_its_uuid_on_the_wire_and_on_screen() {
        let uuid = Uuid::now_v7();
        let id = ThingId::from_uuid(uuid);
        assert_eq!(ThingId::from(uuid), id);
        assert_eq!(serde_json::to_value(id).unwrap(), serde_json::json!(uuid));
        assert_eq!(id.to_string(), uuid.to_string());
        assert_eq!(Uuid::from(id), uuid);
        assert_eq!(id.as_uuid(), uuid);
    }
}
