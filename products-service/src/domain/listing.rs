//! A listing as its seller writes it: the fields of a new one, the changes to one, and who may
//! change it.

use super::{Category, Description, ImageUrl, Price, ProductName, Stock, UserId};

/// The fields of a new listing, every one valid.
#[derive(Debug, Clone)]
pub struct NewListing {
    pub name: ProductName,
    pub description: Description,
    pub category: Category,
    pub price: Price,
    pub stock: Stock,
    pub image_url: Option<ImageUrl>,
}

/// A partial update; `None` leaves a field as it is (`image_url: Some(None)` removes the image).
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub category: Option<Category>,
    pub price: Option<Price>,
    pub stock: Option<Stock>,
    pub image_url: Option<Option<ImageUrl>>,
}

impl ProductChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.category.is_none()
            && self.price.is_none()
            && self.stock.is_none()
            && self.image_url.is_none()
    }
}

/// Who is changing a listing.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: UserId,
    pub is_admin: bool,
}

impl Actor {
    /// A listing may be changed by its seller or an administrator.
    pub fn may_change(self, seller_id: UserId) -> bool {
        self.is_admin || self.user_id == seller_id
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn only_the_seller_or_an_administrator_may_change_a_listing() {
        let seller = UserId::from(Uuid::now_v7());
        let someone = UserId::from(Uuid::now_v7());
        let as_user = |user_id, is_admin| Actor { user_id, is_admin };
        assert!(as_user(seller, false).may_change(seller));
        assert!(as_user(someone, true).may_change(seller));
        assert!(!as_user(someone, false).may_change(seller));
    }
}
