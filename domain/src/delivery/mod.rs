//! Deliveries on goods-and-services agreements (the fruit-basket model): what was delivered on a
//! day, how many at what unit price, by which role allocation. One aggregate per agreement and
//! month holds the month's deliveries; the month-end run invoices it in the same append as the
//! invoice, so a delivery recorded at the same moment either makes that invoice or is refused as
//! `AlreadyInvoiced`, never lost between the two.
//!
//! The value of each delivery is shared among the members by the split's role shares in force on
//! its day (purchasing 50 %, packing 20 %, delivery 30 %): that is what each member earns of it, the
//! figure the payout uses.

mod aggregate;

pub use aggregate::{
    delivery_month_id, Delivery, DeliveryCommand, DeliveryError, DeliveryEvent, DeliveryMonth, Earning, NewDelivery,
    MAX_QUANTITY, MAX_UNIT_PRICE,
};
