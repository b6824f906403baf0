//! Use cases: the rules of one behaviour (who may, what is checked, which transaction and which
//! event), called by route and event handlers and the sweeper alike; the SQL they run is in
//! `db`, the events they write are built in `events::publish`.

pub mod cancel_order;
pub mod list_orders;
pub mod pay_order;
pub mod place_order;
pub mod show_order;
pub mod stream_admin;
pub mod transition_order;
