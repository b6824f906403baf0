//! An order's status and the transitions it may take.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Where an order is in its life. Stored and serialised in upper case (`"PENDING"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum OrderStatus {
    /// Placed; waiting for the inventory's answer.
    Pending,
    /// Stock reserved until `expires_at`; waiting for payment.
    Confirmed,
    Paid,
    Cancelled,
    Rejected,
    Expired,
}

impl OrderStatus {
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Confirmed,
        Self::Paid,
        Self::Cancelled,
        Self::Rejected,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Paid => "PAID",
            Self::Cancelled => "CANCELLED",
            Self::Rejected => "REJECTED",
            Self::Expired => "EXPIRED",
        }
    }

    /// Whether the order may go from `self` to `next`.
    pub fn can_become(self, next: Self) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Confirmed | Rejected | Cancelled) | (Confirmed, Paid | Cancelled | Expired)
        )
    }

    /// No transition leaves a final status.
    pub fn is_final(self) -> bool {
        Self::ALL.iter().all(|next| !self.can_become(*next))
    }

    /// Whether the buyer may still cancel.
    pub fn is_cancellable(self) -> bool {
        self.can_become(Self::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown status string (from the database: a bug; from a query: a 400).
#[derive(Debug, thiserror::Error)]
#[error("unknown order status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for OrderStatus {
    type Err = UnknownStatus;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| UnknownStatus(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::{self, *};

    #[test]
    fn only_the_documented_transitions_are_allowed() {
        let allowed = [
            (Pending, Confirmed),
            (Pending, Rejected),
            (Pending, Cancelled),
            (Confirmed, Paid),
            (Confirmed, Cancelled),
            (Confirmed, Expired),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn paid_cancelled_rejected_and_expired_are_final() {
        let finals: Vec<_> = OrderStatus::ALL
            .into_iter()
            .filter(|status| status.is_final())
            .collect();
        assert_eq!(finals, vec![Paid, Cancelled, Rejected, Expired]);
    }

    #[test]
    fn statuses_round_trip_through_text_in_any_case() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>().unwrap(), status);
            assert_eq!(
                status
                    .as_str()
                    .to_lowercase()
                    .parse::<OrderStatus>()
                    .unwrap(),
                status
            );
        }
        assert!("SHIPPED".parse::<OrderStatus>().is_err());
    }
}
