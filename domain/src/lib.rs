//! The consortium's business rules, free of IO: every change is a command an aggregate decides and an
//! event it records. The application layer loads aggregates and passes in the facts a rule needs.

/// Framework agreements (ramavtal) with their time-versioned rates and capacity.
pub mod agreement;
/// Calendar months and date ranges, the units of reporting and reimbursement.
pub mod calendar;
/// Deliveries on goods-and-services agreements and what each member earns of them.
pub mod delivery;
/// The real agreements and members from the source reports, shared by tests and demo data.
pub mod examples;
/// Invoices and credit notes to the buyers (Peppol UBL), their number series and the seller.
pub mod invoice;
/// Member enterprises (ASF and other associations).
pub mod member;
/// Öre, percentages and the one rounding rule.
pub mod money;
/// Swedish organisation numbers with their Luhn check.
pub mod org_number;
/// Participants across places: one place at a time, and where their caps of months start.
pub mod participant;
/// Paying members: membership fees, payout statements, the reconciliation and the SIE 4 export.
pub mod payout;
/// Swedish personal identity and co-ordination numbers, checked; personal data.
pub mod personnummer;
/// Training places, filled by pseudonymous participants.
pub mod place;
/// Monthly reports and the reimbursement rule they are computed by.
pub mod reimbursement;
/// Personal data sealed under a key kept outside the log (crypto-shredding).
pub mod sealed;
/// Splitting an agreement across members: places or roles with shares.
pub mod split;
/// Utilisation, outcomes and the socio-economic estimate municipalities ask for.
pub mod statistics;
/// Free text from users, trimmed, bounded and free of control characters.
pub mod text;
