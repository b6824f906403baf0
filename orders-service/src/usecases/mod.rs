//! Use cases: the rules of one behaviour and its transaction, called by route and event
//! handlers alike; the SQL they run is in `db`.

pub mod place_order;
