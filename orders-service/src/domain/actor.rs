//! Who is asking: the signed-in caller, as the use cases decide what they may see and do.

use super::UserId;

/// The caller of a use case.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: UserId,
    pub is_admin: bool,
}

impl Actor {
    /// An order is seen (and cancelled) by its buyer or an administrator.
    pub fn may_see(self, buyer: UserId) -> bool {
        self.is_admin || self.user_id == buyer
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn only_the_buyer_or_an_administrator_may_see_an_order() {
        let buyer = UserId::from(Uuid::now_v7());
        let someone = UserId::from(Uuid::now_v7());
        let as_user = |user_id, is_admin| Actor { user_id, is_admin };
        assert!(as_user(buyer, false).may_see(buyer));
        assert!(as_user(someone, true).may_see(buyer));
        assert!(!as_user(someone, false).may_see(buyer));
    }
}
